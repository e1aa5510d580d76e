"""Which planned tasks are complete: one listing of OUT/shards/, kept as a few bits per task.

A task is complete when its stats marker (written last), its tar and its parquet are all listed, and the
marker is believable (shards/stats_marker.py: counts add up, it describes the task's rows). A marker alone
proves nothing: it may be planted, or left by another input list. At a million markers a set of ids would
cost the driver ~100 MB and a list of every name several times that; a local directory is scanned as a
stream and each file sets one bit in its task's byte. The believable markers are read once, here, and
their stats, summed as they are read, are the summary's earlier part (the rest: this run's own results).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import islice

import fsspec

from humanverse.engine.planner import Plan
from humanverse.shards import atomic, funnel
from humanverse.shards.stats_marker import marker_problem
from humanverse.sources.keys import task_id as task_id_of

MARKER_SUFFIX = ".stats.json"
FILE_BITS = {MARKER_SUFFIX: 1, ".tar": 2, ".parquet": 4}
ALL_FILES = 7
RETRY_TAG = "-retry"
MAX_MARKER_BYTES = 1 << 20
"""A marker we write is a few KB; a bigger one is not ours (and is never read whole)."""
FOLD_EVERY = 1000
READ_THREADS = 16
"""Markers read at once: on an object store each is a round trip."""


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


def split_name(name: str) -> tuple[str, int] | None:
    """'00000-00001.tar' -> ('00000-00001', 2); None for anything that is not a shard file."""
    for suffix, bit in FILE_BITS.items():
        if name.endswith(suffix) and not name.startswith("."):
            return name[: -len(suffix)], bit
    return None


def parse_task_id(task_id: str) -> tuple[int, int] | None:
    """'00003-00012' -> (3, 12); None for any other spelling (e.g. '3-12', or a retry id)."""
    parts = task_id.split("-")
    if len(parts) != 2 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    index, chunk = int(parts[0]), int(parts[1])
    return (index, chunk) if task_id == task_id_of(index, chunk) else None


class DoneTasks:
    """Complete tasks of a plan, one byte each; retry shards (`-retryN`) are not plan tasks, but their
    stats count in the summary when their own three files are there."""

    def __init__(self, plan: Plan, keep: list[bool] | None = None):
        self.plan = plan
        self.keep = keep if keep is not None else [True] * len(plan.inputs)
        self.flags = [bytearray(plan.tasks_in(i)) for i in range(len(plan.inputs))]
        self.count = 0
        self.retries: dict[str, int] = {}
        self.believed = 0
        """Markers believed (plan tasks and their retry shards): what the summary's earlier part sums."""
        self._stats: list[dict] = []
        self._believed_retries: set[str] = set()
        self.untrusted: list[tuple[str, str]] = []
        """(task id, why) of markers found with their files but not believed: those tasks are redone."""
        self.stale: set[str] = set()
        """Ids of shards here that belong to no kept task of this plan: another input list's, or planted."""

    @classmethod
    def listed(cls, output: str, plan: Plan, keep: list[bool] | None = None) -> DoneTasks:
        done = cls(plan, keep)
        for name in marker_names(output):
            parts = split_name(name)
            if parts:
                done._see(*parts)
        done._believe(output)
        return done

    def foreign(self, task_id: str) -> bool:
        """A task id (or retry id) of this naming scheme that is no kept task of this plan."""
        at = parse_task_id(task_id.partition(RETRY_TAG)[0])
        if at is None:
            return False
        index, chunk = at
        return not (index < len(self.flags) and chunk < len(self.flags[index]) and self.keep[index])

    def _see(self, task_id: str, bit: int) -> None:
        base, retry, _ = task_id.partition(RETRY_TAG)
        at = parse_task_id(base)
        if at is None:
            return
        index, chunk = at
        if self.foreign(task_id):
            self.stale.add(task_id)
        elif retry:
            self.retries[task_id] = self.retries.get(task_id, 0) | bit
        else:
            self.flags[index][chunk] |= bit

    def _candidates(self) -> Iterator[tuple[str, dict | None]]:
        """Tasks with all three files listed; every byte is cleared as it is passed (only a believed marker
        sets it again, in _believe), so the bits of the listing never read as 'done'."""
        for index, flags in enumerate(self.flags):
            for chunk, bits in enumerate(flags):
                flags[chunk] = 0
                if bits == ALL_FILES:
                    spec = self.plan.task(index, chunk)
                    yield spec.task_id, {"input": spec.input_path, "start": spec.start, "stop": spec.stop}
        for task_id, bits in sorted(self.retries.items()):
            if bits == ALL_FILES:
                yield task_id, None

    def _believe(self, output: str) -> None:
        fs, shards = fsspec.core.url_to_fs(atomic.join(output, "shards"))

        def check(item: tuple[str, dict | None]) -> tuple[str, dict | None, str | None]:
            task_id, source = item
            try:
                with fs.open(f"{shards}/{task_id}{MARKER_SUFFIX}", "rb") as f:
                    raw = f.read(MAX_MARKER_BYTES + 1)
                stats = json.loads(raw) if len(raw) <= MAX_MARKER_BYTES else None
            except (OSError, ValueError, RecursionError) as exc:
                return task_id, None, f"unreadable ({type(exc).__name__})"
            why = marker_problem(stats, task_id, source) if stats is not None else "over 1 MiB"
            return task_id, stats, why

        with ThreadPoolExecutor(READ_THREADS) as pool:
            for task_id, stats, why in _bounded_map(pool, check, self._candidates(), READ_THREADS * 16):
                if why:
                    self.untrusted.append((task_id, why))
                    continue
                self._add(stats)
                if RETRY_TAG in task_id:
                    self._believed_retries.add(task_id)
                else:
                    self.mark(task_id)

    def _add(self, stats: dict) -> None:
        """Keep a marker's contribution to the summary, folded every FOLD_EVERY markers: at a million
        markers the dicts themselves would hold ~1 GB of driver memory for the whole run."""
        self.believed += 1
        self._stats.append(stats)
        if len(self._stats) >= FOLD_EVERY:
            self._stats = [funnel.as_stats(funnel.totals(self._stats))]

    @property
    def stats(self) -> list[dict]:
        """The believed markers' contents, some folded together: a list funnel.totals sums like markers."""
        return list(self._stats)

    def mark(self, task_id: str) -> None:
        at = parse_task_id(task_id)
        if at is None:
            return
        index, chunk = at
        if index < len(self.flags) and chunk < len(self.flags[index]) and not self.flags[index][chunk]:
            self.flags[index][chunk] = 1
            self.count += 1

    def believes(self, task_id: str) -> bool:
        """Is this shard (a plan task or a retry shard) complete with a believed marker?"""
        if RETRY_TAG in task_id:
            return task_id in self._believed_retries
        at = parse_task_id(task_id)
        return at is not None and not self.foreign(task_id) and self.is_done(*at)

    def is_done(self, index: int, chunk: int) -> bool:
        return bool(self.flags[index][chunk])

    @property
    def pending(self) -> int:
        return self.plan.num_tasks - self.count


def _bounded_map(pool: ThreadPoolExecutor, fn, items: Iterable, in_flight: int) -> Iterator:
    """pool.map over a long iterator without submitting it all at once (a million futures)."""
    items = iter(items)
    while batch := list(islice(items, in_flight)):
        yield from pool.map(fn, batch)


def failed_report_ids(output: str) -> list[str]:
    """Task ids with a failure report in OUT/failed/."""
    fs, failed = fsspec.core.url_to_fs(atomic.join(output, "failed"))
    if not fs.exists(failed):
        return []
    names = (p.rsplit("/", 1)[-1] for p in fs.ls(failed, detail=False))
    return [n[: -len(".json")] for n in names if n.endswith(".json") and not n.startswith(".")]


def remove_shards(output: str, task_ids: Iterable[str]) -> int:
    """Delete these tasks' shard files and failure reports, marker first (so a crash half way leaves each
    task incomplete, never a marker without its files)."""
    fs, shards = fsspec.core.url_to_fs(atomic.join(output, "shards"))
    _, failed = fsspec.core.url_to_fs(atomic.join(output, "failed"))
    n = 0
    for task_id in sorted(task_ids):
        for path in (f"{shards}/{task_id}{MARKER_SUFFIX}", f"{shards}/{task_id}.tar", f"{shards}/{task_id}.parquet",
                     f"{failed}/{task_id}.json"):
            try:
                fs.rm_file(path)
            except FileNotFoundError:
                pass
        n += 1
    return n
