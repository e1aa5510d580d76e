"""The local executor: the same stage groups and task logic as on Ray, run in this process, with no Ray to
start (`humanverse curate --engine local`). The first group (downloads and decoding, thread-safe) runs as
many tasks at once on threads as Ray's fetch pool would (fetch actors x fetch.tasks_per_actor), while this
thread takes each finished task, in order, through the other groups one at a time and publishes it. On one
machine a fetch-heavy run is faster than on Ray and needs a third of the memory: no Ray processes, no
start-up (bench/RESULTS.md §4). Tests use it too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from humanverse.core.group import StageGroup
from humanverse.engine.progress import ProgressBoardActor
from humanverse.engine.stall_guard import iter_with_stall_guard
from humanverse.engine.task_feed import iter_units
from humanverse.engine.task_runner import GroupRunner, heartbeat_slot, publish_task, read_unit, worker_name


class LocalHeartbeat:
    def __init__(self, board: ProgressBoardActor):
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
    heartbeat = heartbeat or LocalHeartbeat(ProgressBoardActor())
    first, *rest = [GroupRunner(group, retries, heartbeat) for group in groups]
    tasks = (task for unit in iter_units(feed) for task in read_unit(
        unit, cfg.input.column_map, cfg.input.dataset, retries, heartbeat, cfg.fetch.download.max_bytes))
    fetch = groups[0]
    at_once = fetch.resources.actors * fetch.tasks_per_worker  # as many at once as Ray's fetch pool runs
    with ThreadPoolExecutor(at_once, thread_name_prefix="humanverse-local") as pool:
        for task in in_order(pool, first.run, tasks, at_once):
            for runner in rest:
                task = runner.run(task)
            heartbeat.enter(task.task_id, "write")
            row = publish_task(output, task, write_shard)
            heartbeat.leave()
            yield row


def in_order(pool: ThreadPoolExecutor, fn: Callable, items: Iterable, at_once: int) -> Iterator:
    """fn over items on the pool, results in input order. One item waits queued behind the `at_once`
    running, so the pool stays busy while the caller works on a result; items are drawn only as
    results are taken (a window of 1,000 tasks is never read at once)."""
    pending: deque = deque()
    for item in items:
        pending.append(pool.submit(fn, item))
        if len(pending) > at_once:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


@contextmanager
def local_rows(cfg, groups: list[StageGroup], feed, output: str, console):
    """The result rows of the feed's tasks, under the same stall guard as a Ray run."""
    console.print("running in this process (--engine local: no Ray)")
    board = ProgressBoardActor()
    rows = run_tasks(cfg, groups, feed, output, LocalHeartbeat(board))
    yield iter_with_stall_guard(rows, board.snapshot, cfg.run.stall_timeout_s)
