"""The few operations the dedup pass needs from a distributed engine, and a single-process stand-in.

The pass (humanverse/dedup/passes.py) submits plain functions; humanverse/engine/dedup_ray.py runs them as
Ray tasks (handles are ObjectRefs, so big blocks stay in the object store and go to the tasks that need
them), and LocalExecutor runs them inline for tests and debugging. A handle passed as a top-level argument
is replaced by its value before the function runs, as Ray does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol


class Executor(Protocol):
    def submit(self, fn: Callable, *args: Any, num_returns: int = 1) -> Any: ...
    def put(self, value: Any) -> Any: ...
    def get(self, handles: list[Any]) -> list[Any]: ...
    @property
    def parallelism(self) -> int: ...


class _Box:
    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


class LocalExecutor:
    parallelism = 1

    def submit(self, fn: Callable, *args: Any, num_returns: int = 1) -> Any:
        result = fn(*(a.value if isinstance(a, _Box) else a for a in args))
        if num_returns == 1:
            return _Box(result)
        return tuple(_Box(r) for r in result)

    def put(self, value: Any) -> _Box:
        return _Box(value)

    def get(self, handles: list[Any]) -> list[Any]:
        return [h.value for h in handles]
