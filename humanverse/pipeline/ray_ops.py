"""The callables Ray Data runs. One dataset row is one task (a TaskPayload), so a task flows whole
through every actor pool and becomes exactly one shard, with no shuffle or grouping at the end.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import socket
import time
import traceback

import numpy as np

from humanverse.pipeline.stage_plan import StageGroup
from humanverse.pipeline.task import TaskPayload, TaskSpec
from humanverse.shards import atomic
from humanverse.sources.inputs import reader_for

log = logging.getLogger(__name__)

BOARD_NAME = "humanverse-progress-board"


def _tasks(batch) -> list:
    return [pickle.loads(blob) for blob in batch["task"]]


def _out(tasks: list) -> dict:
    """Tasks travel as pickled bytes: a plain binary column, so Ray Data never tries (and fails, slowly)
    to infer an Arrow type for the payload objects; profiled at a third of a fetch actor's time."""
    return {"task": np.array([pickle.dumps(t, protocol=5) for t in tasks], dtype=object)}


class Heartbeat:
    """Tells the driver's board which task and stage this worker is in, so a stall can be named."""

    def __init__(self, namespace: str | None):
        self.board = None
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        try:
            import ray

            self.board = ray.get_actor(BOARD_NAME, namespace=namespace)
        except Exception:  # noqa: BLE001 - no board (e.g. unit tests): heartbeats are best effort
            self.board = None

    def enter(self, task_id: str, stage: str) -> None:
        if self.board is not None:
            self.board.enter.remote(self.worker, task_id, stage)

    def leave(self) -> None:
        if self.board is not None:
            self.board.leave.remote(self.worker)


class ReadTasks:
    """TaskSpec -> TaskPayload with the chunk's rows; a chunk that cannot be read fails its task only."""

    def __init__(self, column_map: dict[str, str], dataset: str | None, retries: int, namespace: str | None = None,
                 max_bytes: int | None = None):
        self.column_map, self.dataset, self.retries, self.max_bytes = column_map, dataset, retries, max_bytes
        self.heartbeat = Heartbeat(namespace)

    def __call__(self, batch) -> dict:
        columns = list(batch)
        specs = [TaskSpec(**{c: _plain(batch[c][i]) for c in columns}) for i in range(len(batch["task_id"]))]
        return _out([self._read(spec) for spec in specs])

    def _read(self, spec: TaskSpec) -> TaskPayload:
        task = TaskPayload(spec)
        self.heartbeat.enter(spec.task_id, "read")
        started = time.perf_counter()
        for attempt in range(self.retries + 1):
            try:
                task.samples = reader_for(spec.input_format, self.column_map, self.dataset, self.max_bytes).read(spec)
                task.failed = None
                break
            except Exception as exc:  # noqa: BLE001
                task.failed = f"read: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
                task.attempts["read"] = attempt + 1
                time.sleep(min(2.0, 0.2 * 2**attempt))
        task.stage_seconds["read"] = time.perf_counter() - started
        self.heartbeat.leave()
        return task


class StageGroupWorker:
    """An actor that loads its stages' models once, then runs every task through them in order."""

    def __init__(self, group: StageGroup, retries: int, namespace: str | None = None):
        self.group = group
        self.retries = retries
        self.setup_error: str | None = None
        self.heartbeat = Heartbeat(namespace)
        for stage in group.stages:
            self.heartbeat.enter("(none yet)", f"{stage.name} setup")  # a hung model load gets named too
            self._setup(stage)
        self.heartbeat.leave()

    def _setup(self, stage) -> None:
        for attempt in range(self.retries + 1):
            try:
                stage.ensure_setup()
                return
            except Exception as exc:  # noqa: BLE001 - reported on every task this actor sees
                self.setup_error = f"{stage.name} setup: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
                time.sleep(min(2.0, 0.2 * 2**attempt))

    def __call__(self, batch) -> dict:
        tasks = _tasks(batch)
        for task in tasks:
            if task.failed:
                continue
            if self.setup_error:
                task.failed = self.setup_error
                continue
            for stage in self.group.stages:
                self.heartbeat.enter(task.task_id, stage.name)
                self._run_with_retries(stage, task)
                if task.failed:
                    break
            self.heartbeat.leave()
        return _out(tasks)


    def _run_with_retries(self, stage, task: TaskPayload) -> None:
        """Per-sample errors never get here (the stage isolates them); what does is task-level (a lost
        device, a broken client), so the stage is retried on the task before the task is given up."""
        for attempt in range(self.retries + 1):
            try:
                stage.run_task(task)
                task.failed = None
                return
            except Exception as exc:  # noqa: BLE001
                task.attempts[stage.name] = attempt + 1
                task.failed = f"{stage.name}: {type(exc).__name__}: {exc} (after {attempt + 1} attempts)\n" + \
                    traceback.format_exc(limit=5)
                time.sleep(min(2.0, 0.2 * 2**attempt))


class WriteShards:
    """Publishes each finished task as its shard; a failed task leaves a report under OUT/failed/."""

    def __init__(self, output: str, namespace: str | None = None):
        # webdataset imports torch: only the writer pays for it, not every read and fetch actor
        from humanverse.shards.writer import write_shard

        self.write_shard = write_shard
        self.output = output
        self.heartbeat = Heartbeat(namespace)

    def __call__(self, batch) -> dict:
        rows = {"task_id": [], "stats": [], "failed": []}
        for task in _tasks(batch):
            self.heartbeat.enter(task.task_id, "write")
            stats = None
            if not task.failed:
                try:
                    stats = self.write_shard(self.output, task)
                except Exception as exc:  # noqa: BLE001 - reported like any other failed task
                    task.failed = f"write: {type(exc).__name__}: {exc}\n{traceback.format_exc(limit=5)}"
            if task.failed:
                report = {"task_id": task.task_id, "error": task.failed, "spec": task.spec.__dict__}
                atomic.write_bytes(failed_report_path(self.output, task.task_id),
                                   json.dumps(report, indent=1, default=str).encode())
                rows["stats"].append(json.dumps(task.summary()))
                rows["failed"].append(task.failed.splitlines()[0])
            else:
                rows["stats"].append(json.dumps(stats))
                rows["failed"].append("")
            rows["task_id"].append(task.task_id)
            self.heartbeat.leave()
        return {k: np.array(v, dtype=object) for k, v in rows.items()}


def _plain(value):
    if isinstance(value, np.ndarray):
        return tuple(int(v) for v in value)
    return value.item() if isinstance(value, np.generic) else value


def failed_report_path(output: str, task_id: str) -> str:
    return atomic.join(output, "failed", f"{task_id}.json")
