"""The Ray executor: the pending tasks fed lazily (ray_feed.py, one row per window of tasks), read into one
dataset row per task, one actor pool per group (sized by the group's resources), then written: by the
last group's own actors when it runs on CPUs, else by one writer actor (writes_own_shards)."""

from __future__ import annotations

import uuid
from contextlib import contextmanager

from humanverse import run_log
from humanverse.core.group import StageGroup
from humanverse.engine import ray_runtime
from humanverse.engine.ray_feed import window_dataset
from humanverse.engine.ray_board import GcsBoard
from humanverse.engine.ray_ops import ReadTasks, StageGroupWorker, WriteShards
from humanverse.engine.stall_guard import iter_with_stall_guard


@contextmanager
def ray_rows(cfg, groups: list[StageGroup], feed, output: str, console, address: str | None):
    import ray

    where = ray_runtime.init(address, cfg.run.num_cpus, cfg.run.object_store_mb, verbose=run_log.VERBOSE)
    console.print(f"running on {where}")
    namespace = f"humanverse-{uuid.uuid4().hex[:8]}"
    board = GcsBoard(namespace)  # where the workers' heartbeats go (ray_ops.Heartbeat)
    retries = cfg.run.task_retries
    # One block per task: Ray Data would otherwise merge the small batches the read actor yields into
    # 128 MB blocks, and a window of 1,000 tasks would reach the next pool all at once, after it is read.
    # The dataset keeps a copy of the context it is made under, so the process-wide one is put back at once.
    ctx = ray.data.DataContext.get_current()
    saved, ctx.target_max_block_size = ctx.target_max_block_size, 1
    try:
        ds = window_dataset(feed)
    finally:
        ctx.target_max_block_size = saved
    ds = ds.map_batches(
        ReadTasks, fn_constructor_args=(feed, cfg.input.column_map, cfg.input.dataset, retries, namespace,
                                        cfg.fetch.download.max_bytes),
        batch_size=1, compute=ray.data.ActorPoolStrategy(size=1), num_cpus=0.25,
    )
    last_writes = writes_own_shards(groups[-1])
    for group in groups:
        res = group.resources
        writes_to = output if last_writes and group is groups[-1] else None
        ds = ds.map_batches(
            StageGroupWorker, fn_constructor_args=(group, retries, namespace, writes_to), batch_size=1,
            compute=actor_pool(ray, res.actors, group.tasks_per_worker), num_cpus=res.num_cpus,
            num_gpus=res.num_gpus,
        )
    if not last_writes:
        ds = ds.map_batches(WriteShards, fn_constructor_args=(output, namespace), batch_size=1,
                            compute=ray.data.ActorPoolStrategy(size=1), num_cpus=0.25)
    try:
        yield iter_with_stall_guard(ds.iter_rows(), board.snapshot, cfg.run.stall_timeout_s)
    finally:
        board.clear()


def writes_own_shards(last: StageGroup) -> bool:
    """A CPU group writes its finished tasks itself: writing costs the same CPU wherever it runs, and a
    writer actor would add a process, a start-up and a trip of every task's bytes through the object
    store. A GPU group hands them to a writer actor, so its GPU goes on to the next task meanwhile."""
    return not last.resources.num_gpus


def actor_pool(ray, actors: int, tasks_per_actor: int = 1):
    """A fixed pool; with tasks_per_actor > 1 each actor runs that many calls at once on threads."""
    if tasks_per_actor == 1:
        return ray.data.ActorPoolStrategy(size=actors)
    return ray.data.ActorPoolStrategy(size=actors, max_concurrent_calls_per_actor=tasks_per_actor,
                                      enable_true_multi_threading=True)
