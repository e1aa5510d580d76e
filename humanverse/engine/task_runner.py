"""What happens to one task, with no engine in sight: read its rows, run it through a stage group,
publish it as a shard (or a failure report). Ray's callables (ray_ops.py) and the local executor
(local.py) both call these, so the logic is tested without starting Ray.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Iterator, Sequence

from humanverse.core.group import StageGroup
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.engine.retry import with_retries
from humanverse.shards import atomic
from humanverse.sources.inputs import reader_for


class NoBoard:
    """A heartbeat that goes nowhere (no driver is listening)."""

    def enter(self, task_id: str, stage: str) -> None:
        pass

    def leave(self) -> None:
        pass


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def heartbeat_slot(worker: str) -> str:
    """Where a heartbeat is recorded: the worker, and the thread when it runs several tasks at once."""
    thread = threading.current_thread()
    return worker if thread is threading.main_thread() else f"{worker}/{thread.name}"


def read_task(spec: TaskSpec, column_map: dict[str, str], dataset: str | None, retries: int,
              heartbeat=NoBoard(), max_bytes: int | None = None) -> TaskPayload:
    """TaskSpec -> TaskPayload with the chunk's rows; a chunk that cannot be read fails its task only.
    max_bytes caps each image read from a local input (tar member, folder file): the download cap."""
    task = TaskPayload(spec)
    heartbeat.enter(spec.task_id, "read")
    started = time.perf_counter()

    def failed(attempt: int, exc: Exception) -> None:
        task.failed = f"read: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
        task.attempts["read"] = attempt + 1

    ok, samples = with_retries(lambda: reader_for(spec.input_format, column_map, dataset, max_bytes).read(spec), retries, failed)
    if ok:
        task.samples, task.failed = samples, None
    task.stage_seconds["read"] = time.perf_counter() - started
    heartbeat.leave()
    return task


def read_unit(specs: Sequence[TaskSpec], column_map: dict[str, str], dataset: str | None, retries: int,
              heartbeat=NoBoard(), max_bytes: int | None = None) -> Iterator[TaskPayload]:
    """The tasks of one read unit (task_feed.py), each as soon as it is read: a reader that can read
    several tasks in one pass (parquet: each shared row group once) does; if that pass fails, the tasks
    it has not yet yielded are read one by one with read_task's retries, so a failure stays per task."""
    reader = reader_for(specs[0].input_format, column_map, dataset, max_bytes) if specs else None
    if len(specs) < 2 or not hasattr(reader, "read_many"):
        for spec in specs:
            yield read_task(spec, column_map, dataset, retries, heartbeat, max_bytes)
        return
    left = list(specs)
    try:
        started = time.perf_counter()
        heartbeat.enter(left[0].task_id, "read")
        for spec, samples in reader.read_many(left):
            task = TaskPayload(spec, samples)
            task.stage_seconds["read"] = time.perf_counter() - started
            left.remove(spec)
            heartbeat.leave()
            yield task
            started = time.perf_counter()
            if left:
                heartbeat.enter(left[0].task_id, "read")
    except Exception:  # noqa: BLE001 - the rest are read alone, each failing (after retries) on its own
        heartbeat.leave()
    for spec in left:
        yield read_task(spec, column_map, dataset, retries, heartbeat, max_bytes)


class GroupRunner:
    """Loads a group's models once (retrying a failed setup), then runs every task through its stages."""

    def __init__(self, group: StageGroup, retries: int, heartbeat=NoBoard()):
        self.group, self.retries, self.heartbeat = group, retries, heartbeat
        self.setup_error: str | None = None
        for stage in group.stages:
            self.heartbeat.enter("(none yet)", f"{stage.name} setup")  # a hung model load gets named too
            self._setup(stage)
        self.heartbeat.leave()

    def _setup(self, stage) -> None:
        def failed(attempt: int, exc: Exception) -> None:
            self.setup_error = f"{stage.name} setup: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"

        with_retries(stage.ensure_setup, self.retries, failed)

    def run(self, task: TaskPayload) -> TaskPayload:
        if task.failed:
            return task
        if self.setup_error:
            task.failed = self.setup_error
            return task
        for stage in self.group.stages:
            self.heartbeat.enter(task.task_id, stage.name)
            self._run_with_retries(stage, task)
            if task.failed:
                break
        self.heartbeat.leave()
        return task

    def _run_with_retries(self, stage, task: TaskPayload) -> None:
        """Per-sample errors never get here (the stage isolates them); what does is task-level (a lost
        device, a broken client), so the stage is retried on the task before the task is given up."""
        def failed(attempt: int, exc: Exception) -> None:
            task.attempts[stage.name] = attempt + 1
            task.failed = f"{stage.name}: {type(exc).__name__}: {exc} (after {attempt + 1} attempts)\n" + \
                traceback.format_exc(limit=5)

        ok, _ = with_retries(lambda: stage.run_task(task), self.retries, failed)
        if ok:
            task.failed = None


def publish_task(output: str, task: TaskPayload, write_shard) -> dict:
    """Write a finished task as its shard, or a failed one as OUT/failed/<task>.json; the result row.
    A shard write that raises (a value the writer cannot store) fails its task the same way, so the
    run goes on and the task is reported and retried like any other failure."""
    stats = None
    if not task.failed:
        try:
            stats = write_shard(output, task)
        except Exception as exc:  # noqa: BLE001 - reported like any other failed task
            task.failed = f"write: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
    if task.failed:
        report = {"task_id": task.task_id, "error": task.failed, "spec": task.spec.__dict__}
        atomic.write_bytes(failed_report_path(output, task.task_id),
                           json.dumps(report, indent=1, default=str).encode())
        return {"task_id": task.task_id, "stats": json.dumps(task.summary()), "failed": task.failed.splitlines()[0]}
    return {"task_id": task.task_id, "stats": json.dumps(stats), "failed": ""}


def failed_report_path(output: str, task_id: str) -> str:
    return atomic.join(output, "failed", f"{task_id}.json")
