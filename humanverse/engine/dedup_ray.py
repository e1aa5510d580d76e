"""The dedup pass on Ray: the one module where `humanverse dedup` touches Ray.

It joins the same Ray as curate (humanverse/engine/ray_runtime.py: an embedded loopback Ray, or a cluster
by --address) and runs the pass's functions as Ray tasks: one per shard to read sidecars (and backfill
fingerprints), one per band for the pHash lookups, one per embedding block for each k-means step and for
the cluster split, one per partition for the within-cluster SemDeDup step. Handles are ObjectRefs, so the
embedding blocks stay in the object store and move only to the tasks that need them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ray

from humanverse.dedup.config import DedupConfig
from humanverse.dedup.passes import DedupResult, run_dedup
from humanverse.engine import ray_runtime


class RayExecutor:
    def __init__(self, num_cpus_per_task: float = 1.0):
        self._remote: dict[Callable, Any] = {}
        self._cpus = num_cpus_per_task

    def submit(self, fn: Callable, *args: Any, num_returns: int = 1) -> Any:
        if fn not in self._remote:
            self._remote[fn] = ray.remote(fn)
        return self._remote[fn].options(num_cpus=self._cpus, num_returns=num_returns).remote(*args)

    def put(self, value: Any) -> Any:
        return ray.put(value)

    def get(self, handles: list[Any]) -> list[Any]:
        return ray.get(list(handles))

    @property
    def parallelism(self) -> int:
        return max(1, int(ray.cluster_resources().get("CPU", 1) // self._cpus))


def dedup_on_ray(output: str, cfg: DedupConfig, address: str | None = None, force: bool = False,
                 methods_explicit: bool = False, num_cpus: int | None = None) -> tuple[DedupResult, str]:
    """(result, where it ran)."""
    where = ray_runtime.init(address, num_cpus=num_cpus)
    return run_dedup(output, cfg, RayExecutor(), force=force, methods_explicit=methods_explicit), where
