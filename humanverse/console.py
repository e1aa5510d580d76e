"""Consoles for people and for logs: outside a terminal, lines are not wrapped at 80 columns, so paths
and task ids in CI and `ray job logs` stay whole and greppable. While a run sends third-party output to
its log (run_log.py), our stderr console writes to the terminal it kept."""

from __future__ import annotations

import re
import sys
from typing import TextIO

from rich.console import Console
from rich.text import Text

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_terminal: TextIO | None = None


def set_terminal(stream: TextIO | None) -> None:
    global _terminal
    _terminal = stream


def make_console(stderr: bool = False) -> Console:
    if stderr and _terminal is not None:
        return Console(file=_terminal, width=None if _terminal.isatty() else 160, soft_wrap=not _terminal.isatty())
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160, soft_wrap=not stream.isatty())


def untrusted_text(value) -> Text:
    """A value read from a file others made (a reason, a stage name) as plain text for the terminal: never
    parsed as rich markup, and control characters (ANSI/OSC-8 escapes start with ESC) shown as '?'."""
    return Text(_CONTROL.sub("?", str(value)))
