"""kill -9 a worker actor mid-task: Ray restarts it, it loads its models again, the task is redone,
and the run ends with every key exactly once."""

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from ray import cloudpickle

from humanverse import config as cfgmod
from humanverse.engine import curate as curate_mod
from humanverse.engine.curate import curate
from humanverse.core.stage import Resources, Stage
from humanverse.plan import build_stage_groups
from tests.support.engine_only import ENGINE_ONLY

pytestmark = pytest.mark.reliability
cloudpickle.register_pickle_by_value(sys.modules[__name__])


class SlowWitnessStage(Stage):
    """Records each setup() and the pid working on each task, and is slow enough to be killed mid-task."""

    name = "witness"

    def __init__(self, folder: str):
        super().__init__(Resources())
        self.folder = folder

    def setup(self):
        with open(os.path.join(self.folder, "setups"), "a") as f:
            f.write(f"{os.getpid()}\n")

    def run_task(self, task):
        Path(self.folder, f"busy-{os.getpid()}").write_text(task.task_id)
        time.sleep(1.5)
        return super().run_task(task)

    def process(self, batch):
        pass


# the fetch actor's kill is slow-marked (~17 s) to keep the default suite within its 5 minutes; the model actor's
# (the writing one) stays in it
@pytest.mark.parametrize("group_index", [pytest.param(0, id="fetch-actor", marks=pytest.mark.slow),
                                         pytest.param(1, id="model-actor")])
def test_kill_9_worker_mid_task(ray_local, laion_input, tmp_path, monkeypatch, group_index):
    witness_dir = tmp_path / "witness"
    witness_dir.mkdir()

    def build(cfg, allow_private_urls=False):
        groups = build_stage_groups(cfg, allow_private_urls)
        groups[group_index].stages.append(SlowWitnessStage(str(witness_dir)))
        return groups

    monkeypatch.setattr(curate_mod, "build_stage_groups", build)
    killed = []

    def killer():
        deadline = time.time() + 120
        while time.time() < deadline and not killed:
            busy = list(witness_dir.glob("busy-*"))
            if busy:
                pid = int(busy[0].name.split("-")[1])
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, busy[0].read_text()))
                busy[0].unlink()
            time.sleep(0.05)

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    cfg = cfgmod.resolve("demo", None, ["input.rows_per_task=4", *ENGINE_ONLY])
    result = curate(cfg, [laion_input], str(tmp_path / "out"), allow_private_urls=True)
    thread.join(timeout=5)

    assert killed, "the witness never ran"
    assert result.ok and result.tasks_done == 3
    setups = (witness_dir / "setups").read_text().split()
    assert len(setups) >= 2 and str(killed[0][0]) in setups  # the killed actor's replacement set up again
    keys = [k for f in sorted((tmp_path / "out" / "shards").glob("*.parquet")) for k in pq.read_table(f)["key"].to_pylist()]
    assert len(keys) == 10 and len(set(keys)) == 10
