"""Progress for train / sample / eval: a live bar on a terminal, plain lines (first, every every_s seconds,
last) when the output is a log; sampling loops report only inside show_steps()."""

from __future__ import annotations

import io

from rich.console import Console

from humanverse.step_progress import StepProgress, show_steps, steps


def _console(terminal: bool) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, force_terminal=terminal, width=120), buf


def test_log_lines_when_not_a_terminal():
    console, buf = _console(False)
    with StepProgress(5, "train", console=console, every_s=3600) as bar:
        for _ in range(5):
            bar.advance(info="loss 0.1")
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in buf.getvalue()  # the first and the last, no redrawn bar
    assert lines[0].startswith("train: 1/5 steps (") and "ETA" in lines[0] and lines[0].endswith("loss 0.1")
    assert lines[1].startswith("train: 5/5 steps")


def test_a_bar_on_a_terminal():
    console, buf = _console(True)
    with StepProgress(3, "train", console=console, initial=1) as bar:
        bar.advance()
        bar.advance()
    assert "3/3" in buf.getvalue() and "train: " not in buf.getvalue()


def test_sampling_steps_report_only_when_shown():
    items = [1, 2, 3]
    assert steps(items, "stage 1") is items  # library use: untouched
    console, buf = _console(False)
    with show_steps(console):
        assert list(steps(items, "stage 1")) == items
    assert "stage 1: 3/3 steps" in buf.getvalue()
    assert steps(items, "stage 1") is items
