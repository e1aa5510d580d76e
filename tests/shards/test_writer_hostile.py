"""The writer under hostile rows: no row can fail its task, a task that fails anyway gets its failed/
report and leaves no orphan tar, member names are checked, and shards are byte-reproducible."""

import hashlib
import json
import pickle

import numpy as np
import pytest

from humanverse.pipeline.ray_ops import WriteShards
from humanverse.pipeline.sample import Sample
from humanverse.pipeline.task import TaskPayload, TaskSpec
from humanverse.shards.writer import MEMBER_MTIME, write_shard
from tests.shards.test_writer import task_with

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]


class NoHeartbeat:
    def __init__(self, namespace):
        pass

    def enter(self, task_id, stage):
        pass

    def leave(self):
        pass


def test_rows_with_hostile_values_are_written(tmp_path):
    task = task_with(1)
    odd = Sample(key="00000000000097", task_id="00000-00000",
                 source={"dataset": b"\xff", "url": 12345, "source_id": ["x"], "row": 97}, caption="\ud800 lone",
                 meta={"width": 3e9, "height": 2**62, "punsafe": "high", "pwatermark": float("inf")})
    odd.fail("fetch", "bad_url")
    task.samples.append(odd)
    stats = write_shard(str(tmp_path), task)
    assert stats["input"] == len(task.samples)


def test_a_failing_write_leaves_a_failed_report_and_no_orphan_tar(tmp_path, monkeypatch):
    from humanverse.shards import records

    task = task_with(2)

    def explode(rows, extra):
        raise ValueError("a sidecar cell arrow cannot hold")

    monkeypatch.setattr("humanverse.shards.writer.sidecar_table", explode)
    monkeypatch.setattr("humanverse.pipeline.ray_ops.Heartbeat", NoHeartbeat)  # no Ray in this test
    writer = WriteShards(str(tmp_path))
    out = writer({"task": np.array([pickle.dumps(task)], dtype=object)})
    assert out["failed"][0].startswith("write: ValueError")
    report = json.loads((tmp_path / "failed" / "00000-00000.json").read_text())
    assert "arrow cannot hold" in report["error"]
    assert not list((tmp_path / "shards").glob("*.tar")) and not list((tmp_path / "shards").glob(".*"))
    assert records is not None


def test_member_suffix_with_nul_is_refused(tmp_path):
    task = task_with(1)
    task.samples[0].members["depth.png\x00"] = b"x"
    with pytest.raises(ValueError, match="unsafe member suffix"):
        write_shard(str(tmp_path), task)


def test_shards_are_byte_identical_across_runs(tmp_path):
    digests = []
    for run in ("a", "b"):
        np.random.seed(0)  # task_with draws random depth maps
        task = task_with(2)
        for s in task.samples:
            s.timings["fetch"] = 0.123 if run == "a" else 4.56  # differs between runs: must not reach the shard
        write_shard(str(tmp_path / run), task)
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted((tmp_path / run / "shards").glob("*")) if not p.name.endswith(".stats.json")})
    assert digests[0] == digests[1] and len(digests[0]) == 2
    stats = json.loads((tmp_path / "b" / "shards" / "00000-00000.stats.json").read_text())
    assert stats["sample_seconds"]["fetch"] == {"count": 4, "total": 18.24, "max": 4.56}
    import tarfile

    with tarfile.open(tmp_path / "a" / "shards" / "00000-00000.tar") as tar:
        assert {m.mtime for m in tar.getmembers()} == {MEMBER_MTIME}
