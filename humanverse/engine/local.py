"""The local executor: the same stage groups and task logic as on Ray, run in this process, one task at
a time. For tests and for stepping through one task in a debugger (`humanverse curate --engine local`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from humanverse.core.group import StageGroup
from humanverse.engine.progress import ProgressBoardActor
from humanverse.engine.stall_guard import iter_with_stall_guard
from humanverse.engine.task_feed import iter_units
from humanverse.engine.task_runner import GroupRunner, publish_task, read_unit, worker_name


class LocalHeartbeat:
    def __init__(self, board: ProgressBoardActor):
        self.board, self.worker = board, worker_name()

    def enter(self, task_id: str, stage: str) -> None:
        self.board.enter(self.worker, task_id, stage)

    def leave(self) -> None:
        self.board.leave(self.worker)


def run_tasks(cfg, groups: list[StageGroup], feed, output: str, heartbeat=None) -> Iterator[dict]:
    """Read (a unit at a time, task_feed.py), run through every group, and publish each task in turn;
    yields one result row per task."""
    from humanverse.shards.writer import write_shard

    retries = cfg.run.task_retries
    heartbeat = heartbeat or LocalHeartbeat(ProgressBoardActor())
    runners = [GroupRunner(group, retries, heartbeat) for group in groups]
    tasks = (task for unit in iter_units(feed) for task in read_unit(
        unit, cfg.input.column_map, cfg.input.dataset, retries, heartbeat, cfg.fetch.download.max_bytes))
    for task in tasks:
        for runner in runners:
            task = runner.run(task)
        heartbeat.enter(task.task_id, "write")
        row = publish_task(output, task, write_shard)
        heartbeat.leave()
        yield row


@contextmanager
def local_rows(cfg, groups: list[StageGroup], feed, output: str, console):
    """The result rows of the feed's tasks, under the same stall guard as a Ray run."""
    console.print("running in this process (--engine local: no Ray)")
    board = ProgressBoardActor()
    rows = run_tasks(cfg, groups, feed, output, LocalHeartbeat(board))
    yield iter_with_stall_guard(rows, board.snapshot, cfg.run.stall_timeout_s)
