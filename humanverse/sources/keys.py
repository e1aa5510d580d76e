"""Stable sample keys and task ids: the same input row always gets the same key, unique within a run."""

from __future__ import annotations

import re

_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def task_id(input_index: int, chunk: int) -> str:
    return f"{input_index:05d}-{chunk:05d}"


def sample_key(input_index: int, row: int) -> str:
    """No '.' or '/', so WebDataset splits members correctly and no name can escape the output."""
    return f"{input_index:05d}{row:09d}"


def check_key(key: str) -> str:
    if not _SAFE.match(key):
        raise ValueError(f"unsafe sample key {key!r}")
    return key
