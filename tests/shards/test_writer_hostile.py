"""The writer under hostile rows: no row can fail its task, member names are checked, and shards are
byte-reproducible. (A write that fails anyway becomes a failed/ report: tests/engine/test_task_runner_hostile.py.)"""

import hashlib
import json

import numpy as np
import pytest

from humanverse.core.sample import Sample
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.shards.writer import MEMBER_MTIME, write_shard
from tests.shards.test_writer import task_with

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]


def test_rows_with_hostile_values_are_written(tmp_path):
    task = task_with(1)
    odd = Sample(key="00000000000097", task_id="00000-00000",
                 source={"dataset": b"\xff", "url": 12345, "source_id": ["x"], "row": 97}, caption="\ud800 lone",
                 meta={"width": 3e9, "height": 2**62, "punsafe": "high", "pwatermark": float("inf")})
    odd.fail("fetch", "bad_url")
    task.samples.append(odd)
    stats = write_shard(str(tmp_path), task)
    assert stats["input"] == len(task.samples)


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
