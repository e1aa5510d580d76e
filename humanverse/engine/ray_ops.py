"""The callables Ray Data runs: thin adapters over task_runner.py. One dataset row is one task (a
TaskPayload), so a task flows whole through every actor pool and becomes exactly one shard, with no
shuffle or grouping at the end.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time

import numpy as np

from humanverse.core.group import StageGroup
from humanverse.engine.ray_board import GcsBoard
from humanverse.engine.ray_feed import WINDOW_COLUMN
from humanverse.engine.task_runner import GroupRunner, heartbeat_slot, publish_task, read_unit, worker_name

log = logging.getLogger(__name__)


def _tasks(batch) -> list:
    return [pickle.loads(blob) for blob in batch["task"]]


def _out(tasks: list) -> dict:
    """Tasks travel as pickled bytes: a plain binary column, so Ray Data never tries (and fails, slowly)
    to infer an Arrow type for the payload objects; profiled at a third of a fetch actor's time."""
    return {"task": np.array([pickle.dumps(t, protocol=5) for t in tasks], dtype=object)}


class Heartbeat:
    """Tells the run's board (ray_board.py, in the GCS) which task and stage this worker is in, so a stall
    can be named.

    Changes wait here and one thread sends them every FLUSH_S at once: a remote call per stage of every task
    cost 0.17 ms of CPU per fetched row, batching brought it to 0.11 (bench/RESULTS.md 4, round 4). A stall
    is named only after run.stall_timeout_s (minutes), and `since` is taken when a stage starts, not when
    it is sent, so the delay changes nothing the driver reports; the thread also sends a model load that
    hangs in setup."""

    FLUSH_S = 0.5

    def __init__(self, namespace: str | None, board=None):
        self.worker = worker_name()
        self.board = board
        self._pending: dict[str, tuple[str, str, float] | None] = {}
        self._lock = threading.Lock()
        self._sender: threading.Thread | None = None
        if board is None and namespace is not None:
            import ray

            if ray.is_initialized():  # no Ray here (e.g. unit tests): heartbeats are dropped
                self.board = GcsBoard(namespace)

    def enter(self, task_id: str, stage: str) -> None:
        self._note(self._slot(), (task_id, stage, time.time()))

    def leave(self) -> None:
        self._note(self._slot(), None)

    def _note(self, slot: str, entry: tuple[str, str, float] | None) -> None:
        if self.board is None:
            return
        with self._lock:
            self._pending[slot] = entry
            if self._sender is None:
                self._sender = threading.Thread(target=self._send_forever, daemon=True, name="humanverse-heartbeat")
                self._sender.start()

    def flush(self) -> None:
        """Send what changed since the last call, in one remote call (none when nothing did)."""
        with self._lock:
            changes, self._pending = self._pending, {}
        if changes:
            try:
                self.board.report(changes)
            except Exception:  # noqa: BLE001 - best effort, as a lost call was before
                log.debug("heartbeat not sent", exc_info=True)

    def _send_forever(self) -> None:
        while True:
            time.sleep(self.FLUSH_S)
            self.flush()

    def _slot(self) -> str:
        return heartbeat_slot(self.worker)  # per thread where a worker runs several tasks (fetch.tasks_per_actor)


class ReadTasks:
    """Holds the task feed; for each window number in, yields one batch per task as soon as it is read
    (a window's units can be a whole 1M-row file's tasks, which must not all sit here at once)."""

    def __init__(self, feed, column_map: dict[str, str], dataset: str | None, retries: int,
                 namespace: str | None = None, max_bytes: int | None = None):
        self.feed = feed
        self.column_map, self.dataset, self.retries, self.max_bytes = column_map, dataset, retries, max_bytes
        self.heartbeat = Heartbeat(namespace)

    def __call__(self, batch):
        for window in batch[WINDOW_COLUMN]:
            for unit in self.feed.units(int(window)):
                for task in read_unit(unit, self.column_map, self.dataset, self.retries, self.heartbeat,
                                      self.max_bytes):
                    yield _out([task])


class StageGroupWorker:
    """An actor that loads its stages' models once, then runs every task through them in order. Given
    an output, it is the last group and publishes each task itself (ray_executor.writes_own_shards)."""

    def __init__(self, group: StageGroup, retries: int, namespace: str | None = None, output: str | None = None):
        heartbeat = Heartbeat(namespace)
        self.runner = GroupRunner(group, retries, heartbeat)
        self.publish = ShardPublisher(output, heartbeat) if output is not None else None

    def __call__(self, batch) -> dict:
        tasks = [self.runner.run(task) for task in _tasks(batch)]
        return self.publish(tasks) if self.publish is not None else _out(tasks)


class ShardPublisher:
    """Publishes each finished task as its shard; a failed task leaves a report under OUT/failed/."""

    def __init__(self, output: str, heartbeat: Heartbeat):
        # imported here, where shards are written: the read actor and other groups never load the writer
        from humanverse.shards.writer import write_shard

        self.write_shard, self.output, self.heartbeat = write_shard, output, heartbeat

    def __call__(self, tasks: list) -> dict:
        rows = {"task_id": [], "stats": [], "failed": []}
        for task in tasks:
            self.heartbeat.enter(task.task_id, "write")
            for key, value in publish_task(self.output, task, self.write_shard).items():
                rows[key].append(value)
            self.heartbeat.leave()
        return {k: np.array(v, dtype=object) for k, v in rows.items()}


class WriteShards:
    """The writer actor after GPU groups: their actors go on to the next task instead of writing."""

    def __init__(self, output: str, namespace: str | None = None):
        self.publish = ShardPublisher(output, Heartbeat(namespace))

    def __call__(self, batch) -> dict:
        return self.publish(_tasks(batch))
