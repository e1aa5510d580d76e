"""Consoles for people and for logs: outside a terminal, lines are not wrapped at 80 columns, so paths
and task ids in CI and `ray job logs` stay whole and greppable."""

from __future__ import annotations

import sys

from rich.console import Console


def make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 160, soft_wrap=not stream.isatty())
