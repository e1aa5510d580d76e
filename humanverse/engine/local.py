"""The local executor: the same stage groups and task logic as on Ray, run in this process, with no Ray to
start (`humanverse curate --engine local`). The first group (downloads and decoding, thread-safe) runs as
many tasks at once on threads as Ray's fetch pool would (fetch actors x fetch.tasks_per_actor), while this
thread takes each finished task, in order, through the other groups one at a time and publishes it. On one
machine a fetch-heavy run is faster than on Ray and needs a third of the memory: no Ray processes, no
start-up (bench/RESULTS.md §4). Tests use it too.
"""

from __future__ import annotations

import itertools
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

from humanverse.core.group import StageGroup
from humanverse.engine.progress import ProgressBoard
from humanverse.engine.stall_guard import iter_with_stall_guard
from humanverse.engine.task_feed import iter_units
from humanverse.engine.task_runner import GroupRunner, heartbeat_slot, publish_task, read_unit, worker_name


class LocalHeartbeat:
    def __init__(self, board: ProgressBoard):
        self.board, self.worker = board, worker_name()

    def enter(self, task_id: str, stage: str) -> None:
        self.board.enter(heartbeat_slot(self.worker), task_id, stage)

    def leave(self) -> None:
        self.board.leave(heartbeat_slot(self.worker))


def run_tasks(cfg, groups: list[StageGroup], feed, output: str, heartbeat=None) -> Iterator[dict]:
    """Read (a unit at a time, task_feed.py), run through every group, and publish each task in turn;
    yields one result row per task, in feed order."""
    from humanverse.shards.writer import write_shard

    retries = cfg.run.task_retries
    heartbeat = heartbeat or LocalHeartbeat(ProgressBoard())
    first, *rest = [GroupRunner(group, retries, heartbeat) for group in groups]
    tasks = (task for unit in iter_units(feed) for task in read_unit(
        unit, cfg.input.column_map, cfg.input.dataset, retries, heartbeat, cfg.fetch.download.max_bytes))
    fetch = groups[0]
    at_once = fetch.resources.actors * fetch.tasks_per_worker  # as many at once as Ray's fetch pool runs
    for task in in_order(first.run, tasks, at_once):
        for runner in rest:
            task = runner.run(task)
        heartbeat.enter(task.task_id, "write")
        row = publish_task(output, task, write_shard)
        heartbeat.leave()
        yield row


def in_order(fn: Callable, items: Iterable, at_once: int) -> Iterator:
    """fn over items on `at_once` threads, results in input order. The next item is drawn (and queued) as
    each result is taken, so `at_once` keep running while the caller works on it, and a window of 1,000
    tasks is never read at once. The threads are daemons (ThreadPoolExecutor's are joined at exit): a
    hung download, what the stall guard reports, or Ctrl-C never keeps the command from exiting. They
    only fetch and decode; the caller writes. A fixed set, not a thread per item: glibc gives new threads
    new malloc arenas, and a thread per task measured 0.98 instead of 0.57 GiB on the fetch benchmark."""
    jobs: queue.SimpleQueue = queue.SimpleQueue()

    def work() -> None:
        while (job := jobs.get()) is not None:
            future, item = job
            try:
                future.set_result(fn(item))
            except BaseException as exc:  # noqa: BLE001 - re-raised where the result is taken
                future.set_exception(exc)

    for n in range(at_once):
        threading.Thread(target=work, daemon=True, name=f"humanverse-local-{next(_pool_ids)}-{n}").start()

    def queued(item) -> Future:
        future: Future = Future()
        jobs.put((future, item))
        return future

    items = iter(items)
    try:
        pending = deque(queued(item) for item in itertools.islice(items, at_once))
        while pending:
            result = pending.popleft().result()
            for item in itertools.islice(items, 1):
                pending.append(queued(item))
            yield result
    finally:
        for _ in range(at_once):
            jobs.put(None)


_pool_ids = itertools.count()


@contextmanager
def local_rows(cfg, groups: list[StageGroup], feed, output: str, console):
    """The result rows of the feed's tasks, under the same stall guard as a Ray run."""
    console.print("running in this process (--engine local: no Ray)")
    board = ProgressBoard()
    rows = run_tasks(cfg, groups, feed, output, LocalHeartbeat(board))
    yield iter_with_stall_guard(rows, board.snapshot, cfg.run.stall_timeout_s)
