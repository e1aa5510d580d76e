"""Progress of long loops outside curate (train steps, sampling steps, eval images): a live bar with rate and
ETA on a terminal, and plain lines (first, then every `every_s` seconds, and the last) when the output is a
log file or CI, where a redrawn bar would be one endless line of carriage returns.

Sampling code reports its denoising steps through `steps(...)`, which does nothing unless a command turned
reporting on with `show_steps()`: library callers (eval's generator, tests) get no bars of their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from humanverse.console import make_console

_REPORT_TO: ContextVar[Console | None] = ContextVar("humanverse_step_progress", default=None)


class StepProgress:
    def __init__(self, total: int, label: str, unit: str = "steps", initial: int = 0, console: Console | None = None,
                 every_s: float = 30.0, enabled: bool = True):
        self.total, self.label, self.unit, self.every_s, self.enabled = total, label, unit, every_s, enabled
        self.done = self.initial = initial
        self.console = console or make_console(stderr=True)
        self.live = enabled and self.console.is_terminal
        self.started = self._last_line = time.perf_counter()
        self._printed = False
        self.progress = Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn(f"{unit} {{task.fields[info]}}"), TimeElapsedColumn(), TextColumn("ETA"),
                                 TimeRemainingColumn(), console=self.console, disable=not self.live)
        self.task = self.progress.add_task(label, total=total, completed=initial, info="")

    def __enter__(self) -> "StepProgress":
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def advance(self, n: int = 1, info: str = "") -> None:
        self.done += n
        if self.live:
            self.progress.update(self.task, advance=n, info=info)
            return
        now = time.perf_counter()
        if self.enabled and (not self._printed or now - self._last_line >= self.every_s or self.done >= self.total):
            self.console.print(self.line(now, info), highlight=False, markup=False)
            self._last_line, self._printed = now, True

    def line(self, now: float, info: str = "") -> str:
        rate = (self.done - self.initial) / max(now - self.started, 1e-9)
        left = (self.total - self.done) / rate if rate > 0 else float("inf")
        eta = "?" if left == float("inf") else time.strftime("%H:%M:%S", time.gmtime(left))
        return (f"{self.label}: {self.done}/{self.total} {self.unit} ({rate:.3g} {self.unit}/s, ETA {eta})"
                + (f" {info}" if info else ""))


@contextmanager
def show_steps(console: Console | None = None) -> Iterator[None]:
    """Turn on `steps(...)` reporting for the code run inside (a command's sampling)."""
    token = _REPORT_TO.set(console or make_console(stderr=True))
    try:
        yield
    finally:
        _REPORT_TO.reset(token)


def steps(iterable, label: str, unit: str = "steps") -> Iterable:
    """The iterable, reported as `label` when `show_steps()` is on (else returned as it is)."""
    console = _REPORT_TO.get()
    if console is None:
        return iterable
    return _reported(iterable, label, len(iterable), unit, console)


def _reported(iterable, label: str, total: int, unit: str, console: Console) -> Iterator:
    with StepProgress(total, label, unit, console=console) as bar:
        for item in iterable:
            yield item
            bar.advance()
