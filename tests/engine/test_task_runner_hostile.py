"""The engine-free task logic under hostile input (issue 15): the download cap reaches the readers on both
executors, and a shard write that raises becomes a failed/ report instead of failing the run."""

import json
import pickle

import numpy as np
import pyarrow as pa
import pytest

from humanverse.core.task import TaskSpec
from humanverse.engine.curate import curate
from humanverse.engine.task_runner import publish_task, read_task
from humanverse.shards.writer import write_shard
from tests.engine.test_curate_e2e import demo_cfg
from tests.shards.test_writer import task_with
from tests.sources.test_hostile_inputs import sparse_tar

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]


def explode(rows, extra):
    raise pa.ArrowInvalid("a sidecar cell arrow cannot hold")


def test_a_failing_write_leaves_a_failed_report_and_no_orphan_tar(tmp_path, monkeypatch):
    monkeypatch.setattr("humanverse.shards.writer.sidecar_table", explode)
    row = publish_task(str(tmp_path), task_with(2), write_shard)
    assert row["failed"].startswith("write: ArrowInvalid")
    report = json.loads((tmp_path / "failed" / "00000-00000.json").read_text())
    assert "arrow cannot hold" in report["error"]
    assert not list((tmp_path / "shards").glob("*.tar")) and not list((tmp_path / "shards").glob(".*"))


def test_local_run_reports_a_failing_write_and_goes_on(laion_input, tmp_path, monkeypatch):
    """The local executor gives the same guarantee as WriteShards on Ray: every task ends reported."""
    monkeypatch.setattr("humanverse.shards.writer.sidecar_table", explode)
    out = tmp_path / "out"
    result = curate(demo_cfg(), [laion_input], str(out), allow_private_urls=True, engine="local")
    assert not result.ok and set(result.failed) == {"00000-00000", "00000-00001", "00000-00002"}
    assert all(why.startswith("write: ArrowInvalid") for why in result.failed.values())
    assert sorted(p.name for p in (out / "failed").iterdir()) == [f"00000-0000{i}.json" for i in range(3)]
    assert not list((out / "shards").glob("*.tar"))


def tar_spec(tmp_path) -> TaskSpec:
    path = tmp_path / "hostile.tar"
    sparse_tar(path, 64 * 1024**2)
    return TaskSpec("00000-00000", str(path), "img2dataset", 0, 3)


def test_read_task_passes_the_download_cap_to_the_reader(tmp_path):
    task = read_task(tar_spec(tmp_path), {}, None, 0, max_bytes=1024**2)
    assert task.failed is None and [s.reason for s in task.samples] == [None, "too_large", None]


def test_ray_read_tasks_passes_the_download_cap(ray_local, tmp_path):
    """ReadTasks is what ray_executor builds with cfg.fetch.download.max_bytes; called here in the driver."""
    from humanverse.engine.ray_feed import WINDOW_COLUMN
    from humanverse.engine.task_feed import ListFeed
    from humanverse.engine.ray_ops import ReadTasks

    batch = {WINDOW_COLUMN: np.array([0])}
    [out] = list(ReadTasks(ListFeed([tar_spec(tmp_path)]), {}, None, 0, None, max_bytes=1024**2)(batch))
    task = pickle.loads(out["task"][0])
    assert [s.reason for s in task.samples] == [None, "too_large", None]
