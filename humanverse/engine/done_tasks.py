"""Which planned tasks are complete: one listing of OUT/shards/, kept as a bit per task.

A task is complete when its stats marker exists (written last, after tar and parquet). At a million
markers a set of ids would cost the driver ~100 MB and a list of every name several times that; a local
directory is scanned as a stream and each marker sets one byte in its input's array.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import fsspec

from humanverse.engine.planner import Plan
from humanverse.shards import atomic
from humanverse.sources.keys import task_id as task_id_of

MARKER_SUFFIX = ".stats.json"


def marker_names(output: str) -> Iterator[str]:
    """File names in OUT/shards/, streamed where the filesystem allows (local), else one listing."""
    shards = atomic.join(output, "shards")
    fs, path = fsspec.core.url_to_fs(shards)
    if atomic.is_local(shards):
        if not os.path.isdir(path):
            return
        with os.scandir(path) as entries:
            for entry in entries:
                yield entry.name
        return
    if not fs.exists(path):
        return
    for name in fs.ls(path, detail=False):
        yield name.rsplit("/", 1)[-1]


class DoneTasks:
    """Complete tasks of a plan, one byte each; retry shards (`-retryN`) are not plan tasks."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.flags = [bytearray(plan.tasks_in(i)) for i in range(len(plan.inputs))]
        self.count = 0

    @classmethod
    def listed(cls, output: str, plan: Plan) -> DoneTasks:
        done = cls(plan)
        for name in marker_names(output):
            if name.endswith(MARKER_SUFFIX):
                done.mark(name[: -len(MARKER_SUFFIX)])
        return done

    def mark(self, task_id: str) -> None:
        parts = task_id.split("-")
        if len(parts) != 2 or not (parts[0].isdigit() and parts[1].isdigit()):
            return
        index, chunk = int(parts[0]), int(parts[1])
        if task_id != task_id_of(index, chunk):  # e.g. "1-2": not a name this planner gives
            return
        if index < len(self.flags) and chunk < len(self.flags[index]) and not self.flags[index][chunk]:
            self.flags[index][chunk] = 1
            self.count += 1

    def is_done(self, index: int, chunk: int) -> bool:
        return bool(self.flags[index][chunk])

    @property
    def pending(self) -> int:
        return self.plan.num_tasks - self.count
