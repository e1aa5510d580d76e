"""Live progress for the driver: tasks and rows done, rates, ETA, and the board that names stalls."""

from __future__ import annotations

import sys
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBoard:
    """Which worker is in which task and stage since when: the local engine's board (a Ray run keeps it in the
    GCS: ray_board.py)."""

    def __init__(self):
        self.active: dict[str, tuple[str, str, float]] = {}

    def enter(self, worker: str, task_id: str, stage: str) -> None:
        self.active[worker] = (task_id, stage, time.time())

    def leave(self, worker: str) -> None:
        self.active.pop(worker, None)

    def report(self, changes: dict[str, tuple[str, str, float] | None]) -> None:
        """Several enters and leaves at once (None: left), as a Ray worker's heartbeat sends them."""
        for worker, entry in changes.items():
            if entry is None:
                self.leave(worker)
            else:
                self.active[worker] = entry

    def snapshot(self) -> dict[str, tuple[str, str, float]]:
        return dict(self.active)


class CurateProgress:
    def __init__(self, total_tasks: int, enabled: bool, console: Console):
        self.rows = self.ok = 0
        self.started = time.perf_counter()
        self.progress = Progress(
            TextColumn("[bold]curate"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("tasks  {task.fields[rows]} rows  {task.fields[ok]} ok  {task.fields[rate]} rows/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not enabled,
            transient=False,
        )
        self.bar = self.progress.add_task("curate", total=total_tasks, rows=0, ok=0, rate="-")
        self.enabled = enabled
        self.console = console
        self._last_line = 0.0

    def __enter__(self):
        self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        self.progress.__exit__(*exc)

    def task_done(self, stats: dict) -> None:
        self.rows += int(stats.get("input", 0))
        self.ok += int(stats.get("ok", 0))
        rate = self.rows / max(1e-9, time.perf_counter() - self.started)
        self.progress.update(self.bar, advance=1, rows=self.rows, ok=self.ok, rate=f"{rate:.1f}")
        # Non-terminal logs (CI, ray job logs) get a plain line at most every 10 s.
        if self.enabled and not self.console.is_terminal and time.time() - self._last_line > 10:
            self._last_line = time.time()
            done = self.progress.tasks[0].completed
            print(f"progress: {done:.0f}/{self.progress.tasks[0].total} tasks, {self.rows} rows, {self.ok} ok, {rate:.1f} rows/s",
                  file=sys.stderr, flush=True)
