"""The unit of work: a bounded chunk of one input shard that becomes exactly one output shard."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from humanverse.core.sample import Sample


@dataclass(frozen=True)
class TaskSpec:
    task_id: str
    """Stable for a given input: {input index:05d}-{chunk:03d}; names the output shard."""
    input_path: str
    input_format: str
    start: int
    """First row (or member, or file) of the chunk in its input, inclusive."""
    stop: int
    """End of the chunk, exclusive."""
    input_index: int = 0
    rows: tuple[int, ...] = ()
    """When set, only these rows of [start, stop) are read (a --retry-failed task)."""

    def selects(self, index: int) -> bool:
        return not self.rows or index in self._row_set

    @cached_property
    def _row_set(self) -> frozenset[int]:
        return frozenset(self.rows)


@dataclass
class TaskPayload:
    """What travels between stages: the task's samples plus its own bookkeeping."""

    spec: TaskSpec
    samples: list[Sample] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)
    """stage -> counter name -> count (in, ok, rejected:<reason>, error:<reason>, ...)."""
    failed: str | None = None
    """Set when the task as a whole could not be processed; it is then not written and is redone later."""
    attempts: dict[str, int] = field(default_factory=dict)

    @property
    def task_id(self) -> str:
        return self.spec.task_id

    def count(self, stage: str, name: str, n: int = 1) -> None:
        bucket = self.counters.setdefault(stage, {})
        bucket[name] = bucket.get(name, 0) + n

    def summary(self) -> dict[str, Any]:
        by_status: dict[str, int] = {}
        for s in self.samples:
            by_status[s.status] = by_status.get(s.status, 0) + 1
        return {"task_id": self.task_id, "input": len(self.samples), **by_status}
