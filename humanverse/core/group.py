"""Stages that share one worker (a Ray actor pool, or one loop of the local executor)."""

from __future__ import annotations

from dataclasses import dataclass

from humanverse.core.stage import Filter, Resources, Stage


@dataclass
class StageGroup:
    name: str
    stages: list[Stage]
    resources: Resources
    """What one worker of the pool asks for: see pool_resources."""
    tasks_per_worker: int = 1
    """Tasks one worker runs at once, each on its own thread. Only for groups whose stages hold no model
    and are thread-safe (fetch): one task's downloads then overlap another's decode in the same process."""


def pool_resources(stages: list[Stage], pool: Resources | None = None) -> Resources:
    """A worker's request covers each member's own declaration, so a stage means the same alone or grouped.

    The stages of a group run one after another in one worker, so the worker needs the largest CPU and GPU
    share any member declares (and at least what the group itself names: `fetch.resources`,
    `layout.fused_resources`). A Filter decides from what the sample already holds; it rides along and its
    resources set only its micro-batch. Each stage still sets its own threads, device and batch size.
    """
    base = pool or stages[0].resources
    working = [s.resources for s in stages if not isinstance(s, Filter)] or [base]
    return base.model_copy(update={
        "num_cpus": max([base.num_cpus, *(r.num_cpus for r in working)]),
        "num_gpus": max([base.num_gpus, *(r.num_gpus for r in working)]),
    })
