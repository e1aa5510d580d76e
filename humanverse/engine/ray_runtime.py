"""Starting or joining Ray: an embedded local Ray on loopback by default, a cluster by address."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def local_ray_env() -> None:
    """A local Ray otherwise registers under the machine's network address and turns token auth on.
    MALLOC_ARENA_MAX: glibc gives each thread that allocates an arena of its own (up to 8 per core), and a
    fetch worker's 16 download threads each keep freed bodies in theirs; 2 arenas for the processes Ray
    starts cost no CPU and ~0.1 GiB of the fetch run's PSS (bench/RESULTS.md section 4, `arenas2`)."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")


def init(address: str | None, num_cpus: int | None = None, object_store_mb: int | None = None,
         verbose: bool = False) -> str:
    """Returns a description of where we run. Re-uses a Ray already initialised in this process."""
    import ray

    if ray.is_initialized():
        return "existing Ray in this process"
    if address:
        ray.init(address=address, log_to_driver=verbose, configure_logging=not verbose)
        where = f"Ray cluster at {address}"
    else:
        local_ray_env()
        ray.init(
            address="local",
            num_cpus=num_cpus,
            object_store_memory=object_store_mb * 2**20 if object_store_mb else None,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            log_to_driver=verbose,
            configure_logging=False,
        )
        where = f"embedded local Ray ({int(ray.cluster_resources().get('CPU', 0))} CPUs, loopback only)"
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)
    return where
