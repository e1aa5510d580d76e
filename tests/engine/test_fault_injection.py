"""Faults injected into a run on the local executor (the same task logic as on Ray, see
engine/task_runner.py): a poison sample, a task that always fails, a stage that hangs. Ray-only faults
(a killed worker) are in test_worker_kill.py."""

import json
import threading
import time

import pyarrow.parquet as pq
import pytest

from humanverse import config as cfgmod
from humanverse.engine import curate as curate_mod
from humanverse.engine.curate import curate
from humanverse.engine.stall_guard import StallError
from humanverse.core.stage import Resources, Stage
from humanverse.core.group import StageGroup
from humanverse.plan import build_stage_groups

pytestmark = pytest.mark.reliability


class PoisonStage(Stage):
    """Raises on one sample, like a model that crashes on one odd input."""

    name = "poison"

    def __init__(self, poison_caption: str):
        super().__init__(Resources(batch_size=4))
        self.poison_caption = poison_caption

    def process(self, batch):
        for s in batch:
            if s.caption == self.poison_caption:
                raise ValueError("model exploded on this input")
            s.info["poison_checked"] = True


class BrokenTaskStage(Stage):
    """Fails a whole task every time (e.g. a device that is lost whenever this task's data arrives)."""

    name = "breaker"

    def __init__(self, task_id: str):
        super().__init__(Resources())
        self.task_id = task_id

    def run_task(self, task):
        if task.task_id == self.task_id:
            raise RuntimeError("device lost")
        return super().run_task(task)

    def process(self, batch):
        pass


class HangStage(Stage):
    name = "hang"

    def __init__(self, task_id: str, seconds: float):
        super().__init__(Resources())
        self.task_id, self.seconds = task_id, seconds

    def run_task(self, task):
        if task.task_id == self.task_id:
            time.sleep(self.seconds)
        return super().run_task(task)

    def process(self, batch):
        pass


def with_extra_group(monkeypatch, stage):
    def build(cfg, allow_private_urls=False):
        return build_stage_groups(cfg, allow_private_urls) + [StageGroup(stage.name, [stage], Resources(num_cpus=0.1, actors=2))]

    monkeypatch.setattr(curate_mod, "build_stage_groups", build)


NO_ANNOTATORS = ("pose=null", "depth=null", "normal=null", "outpaint.mode=never")
STALL_S = 8


def cfg(*extra):
    return cfgmod.resolve("demo", None, ["input.rows_per_task=5", *extra])


def test_poison_sample_becomes_an_error_row_and_its_task_survives(laion_input, tmp_path, monkeypatch):
    with_extra_group(monkeypatch, PoisonStage("people by a bus"))
    result = curate(cfg("person.min_persons=0", "person.min_area_frac=0"), [laion_input], str(tmp_path / "o"), allow_private_urls=True, engine="local")
    assert result.ok
    rows = pq.read_table(sorted((tmp_path / "o" / "shards").glob("*.parquet"))).to_pylist()
    poisoned = [r for r in rows if r["caption"] == "people by a bus"]
    assert poisoned and all((r["status"], r["reason"]) == ("error", "poison_error:ValueError") for r in poisoned)
    # the rest of each task was kept: zidane passes the (relaxed) person rule in both tasks
    assert sum(r["status"] == "ok" for r in rows) == 2


def test_task_failing_every_time_is_retried_then_reported(laion_input, tmp_path, monkeypatch):
    with_extra_group(monkeypatch, BrokenTaskStage("00000-00001"))
    result = curate(cfg("run.task_retries=2"), [laion_input], str(tmp_path / "o"), allow_private_urls=True, engine="local")
    assert set(result.failed) == {"00000-00001"} and "after 3 attempts" in result.failed["00000-00001"]
    assert result.tasks_done == 1
    out = tmp_path / "o"
    assert (out / "shards" / "00000-00000.stats.json").exists()
    assert not (out / "shards" / "00000-00001.tar").exists()
    assert "device lost" in json.loads((out / "failed" / "00000-00001.json").read_text())["error"]
    assert json.loads((out / "run.json").read_text())["failed_tasks"] == ["00000-00001"]


def test_hanging_stage_fails_within_stall_timeout_naming_stage_and_task(laion_input, tmp_path, monkeypatch):
    with_extra_group(monkeypatch, HangStage("00000-00001", seconds=60))
    started = time.monotonic()
    # STALL_S, not less: a model's setup on a busy 2-core machine can outlast a shorter timeout and be named first
    with pytest.raises(StallError, match=r"stage hang on task 00000-00001"):
        curate(cfg(f"run.stall_timeout_s={STALL_S}", *NO_ANNOTATORS), [laion_input], str(tmp_path / "o"),
               allow_private_urls=True, engine="local")
    assert time.monotonic() - started < 45  # well before the hang would have ended
    assert (tmp_path / "o" / "shards" / "00000-00000.stats.json").exists()  # the healthy task was published


def test_a_hang_in_the_threaded_fetch_group_fails_within_stall_timeout_and_never_blocks_exit(laion_input, tmp_path,
                                                                                           monkeypatch):
    """On the local engine the first group runs on threads of its own: the stall is still named, and the
    hung thread is a daemon, so the command can exit (code 3) instead of waiting for it."""
    def build(cfg, allow_private_urls=False):
        groups = build_stage_groups(cfg, allow_private_urls)
        groups[0].stages.append(HangStage("00000-00001", seconds=60))
        return groups

    monkeypatch.setattr(curate_mod, "build_stage_groups", build)
    started = time.monotonic()
    with pytest.raises(StallError, match=r"stage hang on task 00000-00001"):
        curate(cfg(f"run.stall_timeout_s={STALL_S}", *NO_ANNOTATORS), [laion_input], str(tmp_path / "o"),
               allow_private_urls=True, engine="local")
    assert time.monotonic() - started < 45
    hung = [t for t in threading.enumerate() if t.name.startswith("humanverse-local-") and t.is_alive()]
    assert hung and all(t.daemon for t in hung)
