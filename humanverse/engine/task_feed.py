"""The pending tasks, fed to an executor lazily, a window at a time, as read units.

A read unit is a run of tasks of one input that share row groups (planner.Plan.unit_bounds), read in
one pass (ParquetURLReader.read_many) so each needed byte is read about once. A window is a range of
plan positions; it holds the units that START in it (whole, even where they run past its end), so
every pending task is in exactly one unit of exactly one window, in plan order. An executor asks for
window i when it is ready for more: nothing is made for the tasks beyond the windows in flight.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from humanverse.core.task import TaskSpec
from humanverse.engine.done_tasks import DoneTasks
from humanverse.engine.planner import Plan

WINDOW_TASKS = 1000
"""Plan positions per window: one Ray read task's worth of units."""


class PlanFeed:
    """The plan's tasks that are not done, in plan order."""

    def __init__(self, plan: Plan, done: DoneTasks, window: int = WINDOW_TASKS):
        self.plan, self.done, self.window = plan, done, window

    @property
    def pending(self) -> int:
        return self.done.pending

    @property
    def num_windows(self) -> int:
        return -(-self.plan.num_tasks // self.window)

    def units(self, w: int) -> list[list[TaskSpec]]:
        plan, lo = self.plan, w * self.window
        hi = min(plan.num_tasks, lo + self.window)
        out: list[list[TaskSpec]] = []
        ordinal = lo
        while ordinal < hi:
            index, chunk = plan.locate(ordinal)
            first, end = plan.unit_bounds(index, chunk)
            if first < chunk:  # started in an earlier window, which fed it whole
                ordinal = plan.first_task(index) + end
                continue
            unit = [plan.task(index, c) for c in range(first, end) if not self.done.is_done(index, c)]
            if unit:
                out.append(unit)
            ordinal = plan.first_task(index) + end
        return out


class ListFeed:
    """Explicit tasks (--retry-failed's), one unit each."""

    def __init__(self, specs: Sequence[TaskSpec], window: int = WINDOW_TASKS):
        self.specs, self.window = list(specs), window

    @property
    def pending(self) -> int:
        return len(self.specs)

    @property
    def num_windows(self) -> int:
        return -(-len(self.specs) // self.window)

    def units(self, w: int) -> list[list[TaskSpec]]:
        return [[s] for s in self.specs[w * self.window:(w + 1) * self.window]]


def iter_units(feed) -> Iterator[list[TaskSpec]]:
    """Every unit of the feed, window by window (the local executor; tests)."""
    for w in range(feed.num_windows):
        yield from feed.units(w)
