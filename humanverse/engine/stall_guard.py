"""Fail a run that stops moving, naming the stage and task it is stuck in, instead of hanging forever."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator


class StallError(RuntimeError):
    pass


Active = dict[str, tuple[str, str, float]]
"""worker -> (task id, stage, since when): what the progress board reports."""


def iter_with_stall_guard(rows: Iterable, active: Callable[[], Active], stall_timeout_s: float,
                          poll_s: float = 1.0) -> Iterator:
    """Yield the rows (pulled on a helper thread); raise StallError naming the stuck stage and task when
    nothing comes for stall_timeout_s and no stage started anything in that time either."""
    results: queue.Queue = queue.Queue()
    sentinel = object()

    def pump():
        try:
            for row in rows:
                results.put(row)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the driver thread
            results.put(exc)
        results.put(sentinel)

    threading.Thread(target=pump, daemon=True, name="humanverse-results").start()
    last_progress = time.time()
    while True:
        try:
            item = results.get(timeout=poll_s)
        except queue.Empty:
            if time.time() - last_progress > stall_timeout_s:
                # A stage that started a task recently is progress too (slow start-up is not a stall).
                now_active = active()
                newest = max((since for _, _, since in now_active.values()), default=0.0)
                if time.time() - newest < stall_timeout_s:
                    last_progress = newest
                    continue
                stuck = sorted(now_active.values(), key=lambda a: a[2])
                where = "; ".join(f"stage {s} on task {t} for {time.time() - since:.0f}s" for t, s, since in stuck[:5])
                raise StallError(f"no progress for {stall_timeout_s:.0f}s: " + (
                    where or "no stage is active (workers still starting, or waiting for resources: see `ray status`)"))
            continue
        if item is sentinel:
            return
        if isinstance(item, BaseException):
            raise item
        last_progress = time.time()
        yield item
