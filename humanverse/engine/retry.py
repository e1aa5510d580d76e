"""The one retry helper: call, and on an exception wait with capped exponential backoff and try again."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def backoff_s(attempt: int, base: float = 0.2, cap: float = 2.0) -> float:
    return min(cap, base * 2**attempt)


def with_retries(fn: Callable[[], T], retries: int, on_error: Callable[[int, Exception], None],
                 sleep: Callable[[float], None] = time.sleep) -> tuple[bool, T | None]:
    """(True, result) from the first attempt that returns; (False, None) after 1 + retries failures.

    on_error(attempt, exc) sees every failure (to record it); nothing is raised.
    """
    for attempt in range(retries + 1):
        try:
            return True, fn()
        except Exception as exc:  # noqa: BLE001 - the caller records it through on_error
            on_error(attempt, exc)
            if attempt < retries:
                sleep(backoff_s(attempt))
    return False, None
