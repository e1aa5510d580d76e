"""Stable sample keys and task ids: the same input row always gets the same key, unique within a run."""

from __future__ import annotations

import re

_SAFE = re.compile(r"[A-Za-z0-9_-]+")
_SAFE_SUFFIX = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*")


def task_id(input_index: int, chunk: int) -> str:
    return f"{input_index:05d}-{chunk:05d}"


def sample_key(input_index: int, row: int) -> str:
    """No '.' or '/', so WebDataset splits members correctly and no name can escape the output."""
    return f"{input_index:05d}{row:09d}"


def check_key(key: str) -> str:
    """fullmatch: `$` would also match before a trailing newline, so 'ok\\n' would pass."""
    if not isinstance(key, str) or not _SAFE.fullmatch(key):
        raise ValueError(f"unsafe sample key {key!r}")
    return key


def is_safe_key(key) -> bool:
    return isinstance(key, str) and _SAFE.fullmatch(key) is not None


MAX_TASK_ID = 128


def check_task_id(value: str) -> str:
    """A task id read from a file (stats marker, sidecar, dedup marks) before it becomes part of a path:
    the key alphabet (no '.', '/', NUL or '..'), at most MAX_TASK_ID characters."""
    if not isinstance(value, str) or len(value) > MAX_TASK_ID or not _SAFE.fullmatch(value):
        raise ValueError(f"unsafe task id {value!r}")
    return value


def check_member_suffix(suffix: str) -> str:
    """A tar member suffix such as 'depth.png': dot-separated words, no '/', NUL or '..'."""
    if not isinstance(suffix, str) or not _SAFE_SUFFIX.fullmatch(suffix):
        raise ValueError(f"unsafe member suffix {suffix!r}")
    return suffix
