"""`humanverse curate` from top to bottom: plan tasks, decide what to resume, stream every pending task
through the stage groups on Ray Data, publish one shard per task, and summarise.
"""

from __future__ import annotations

import dataclasses
import json
import queue
import threading
import time
import uuid
from dataclasses import dataclass, field

from rich.console import Console

from humanverse.config import CurateConfig
from humanverse.demo_models import ensure_demo_models
from humanverse.console import make_console
from humanverse.pipeline import funnel, planner, ray_runtime, run_manifest
from humanverse.pipeline import retry_failed as retry_failed_rows
from humanverse.pipeline.progress import CurateProgress, ProgressBoardActor
from humanverse.pipeline.ray_ops import (
    BOARD_NAME,
    ReadTasks,
    StageGroupWorker,
    WriteShards,
    failed_report_path,
)
from humanverse.pipeline.stage_plan import build_stage_groups
from humanverse.shards import atomic


class StallError(RuntimeError):
    pass


@dataclass
class CurateResult:
    output: str
    tasks_total: int
    tasks_skipped: int
    tasks_done: int
    failed: dict[str, str] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


def curate(
    cfg: CurateConfig,
    inputs: list[str],
    output: str,
    address: str | None = None,
    force: bool = False,
    allow_private_urls: bool = False,
    console: Console | None = None,
    retry_failed: bool = False,
) -> CurateResult:
    console = console or make_console(stderr=True)
    started = time.perf_counter()

    # 1. Plan: inputs -> tasks with stable ids. Build stages now so missing model files fail before work.
    plan = planner.plan(inputs, cfg.input.format, cfg.input.column_map, cfg.input.rows_per_task, cfg.input.dataset)
    if cfg.demo:
        console.print("[yellow]demo preset: untrained demo models (random weights) except the OpenCV HOG "
                      "person detector; thresholds of untrained scoring stages are off.[/yellow]")
        ensure_demo_models(cfg.models_dir, say=console.print)
    groups = build_stage_groups(cfg, allow_private_urls)

    # 2. Resume: refuse a changed config or input list; skip tasks whose stats marker exists.
    previous = run_manifest.check_resume(output, cfg.digest(), plan.digest(), force)
    atomic.remove_stale_temporaries(atomic.join(output, "shards"))
    done = run_manifest.completed_tasks(output, [t.task_id for t in plan.tasks])
    pending = [t for t in plan.tasks if t.task_id not in done]
    retry_sources: dict[str, str] = {}
    if retry_failed:
        if pending:
            console.print(f"[yellow]{len(pending)} task(s) are incomplete; --retry-failed leaves them for a plain rerun[/yellow]")
        pending, retry_sources = retry_failed_rows.plan_retries(output, plan)
        console.print(f"--retry-failed: {sum(len(t.rows) for t in pending)} transiently failed rows in {len(pending)} shard(s)")
    models = {k: v for g in groups for s in g.stages for k, v in s.model_ids().items()}
    record = run_manifest.new_record(
        cfg.model_dump(mode="json"), cfg.digest(), plan.digest(),
        [{"path": i.path, "format": i.format, "rows": i.rows} for i in plan.inputs], models,
    )
    if previous:
        record["started_at"] = previous.get("started_at", record["started_at"])
        record["resumed"] = previous.get("resumed", 0) + 1
    run_manifest.write_run_json(output, record)
    console.print(f"{len(plan.tasks)} tasks over {plan.total_rows} rows from {len(plan.inputs)} input(s); "
                  f"{len(done)} already complete, {len(pending)} to run")

    # 3. Run the pending tasks through the stage groups on Ray Data, one dataset row per task.
    failed: dict[str, str] = {}
    if pending:
        where = ray_runtime.init(address, cfg.run.num_cpus, cfg.run.object_store_mb)
        console.print(f"running on {where}")
        failed = _run_pending(cfg, groups, pending, output, console, retry_sources)

    # 4. Summarise from the stats markers (this run's and earlier runs'), and close run.json.
    summary = funnel.totals(funnel.load_stats(output))
    record.update(finished_at=time.time(), status="failed" if failed else "complete",
                  counts=summary["counts"], failed_tasks=sorted(failed))
    run_manifest.write_run_json(output, record)
    return CurateResult(output, len(plan.tasks), len(done), len(pending) - len(failed), failed, summary,
                        time.perf_counter() - started)


def _run_pending(cfg: CurateConfig, groups, pending, output: str, console: Console,
                 retry_sources: dict[str, str]) -> dict[str, str]:
    import ray

    namespace = f"humanverse-{uuid.uuid4().hex[:8]}"
    board = ray.remote(num_cpus=0)(ProgressBoardActor).options(name=BOARD_NAME, namespace=namespace).remote()
    ray.get(board.snapshot.remote())  # registered before any worker looks it up
    retries = cfg.run.task_retries
    ds = ray.data.from_items([dataclasses.asdict(spec) for spec in pending], override_num_blocks=len(pending))
    ds = ds.map_batches(
        ReadTasks, fn_constructor_args=(cfg.input.column_map, cfg.input.dataset, retries, namespace,
                                        cfg.fetch.download.max_bytes),
        batch_size=1, compute=ray.data.ActorPoolStrategy(size=1), num_cpus=0.25,
    )
    for group in groups:
        res = group.resources
        ds = ds.map_batches(
            StageGroupWorker, fn_constructor_args=(group, retries, namespace), batch_size=1,
            compute=ray.data.ActorPoolStrategy(size=res.actors), num_cpus=res.num_cpus, num_gpus=res.num_gpus,
        )
    ds = ds.map_batches(WriteShards, fn_constructor_args=(output, namespace), batch_size=1,
                        compute=ray.data.ActorPoolStrategy(size=1), num_cpus=0.25)

    failed: dict[str, str] = {}
    specs = {t.task_id: t for t in pending}
    with CurateProgress(len(pending), cfg.run.progress, console) as progress:
        for row in _iter_with_stall_guard(ds, board, cfg.run.stall_timeout_s):
            stats = json.loads(row["stats"])
            if row["failed"]:
                failed[row["task_id"]] = row["failed"]
                console.print(f"[red]task {row['task_id']} failed[/red]: {row['failed']} "
                              f"(details: {failed_report_path(output, row['task_id'])})")
            elif row["task_id"] in retry_sources:
                retry_failed_rows.mark_retried(output, retry_sources[row["task_id"]], row["task_id"],
                                               specs[row["task_id"]].rows)
            progress.task_done(stats)
    ray.kill(board)
    return failed


def _iter_with_stall_guard(ds, board, stall_timeout_s: float):
    """Yield result rows; raise StallError naming the stuck stage and task when nothing moves in time."""
    import ray

    results: queue.Queue = queue.Queue()
    sentinel = object()

    def pump():
        try:
            for row in ds.iter_rows():
                results.put(row)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the driver thread
            results.put(exc)
        results.put(sentinel)

    threading.Thread(target=pump, daemon=True, name="humanverse-results").start()
    last_progress = time.time()
    while True:
        try:
            item = results.get(timeout=1.0)
        except queue.Empty:
            if time.time() - last_progress > stall_timeout_s:
                # A stage that started a task recently is progress too (slow start-up is not a stall).
                active = ray.get(board.snapshot.remote())
                newest = max((since for _, _, since in active.values()), default=0.0)
                if time.time() - newest < stall_timeout_s:
                    last_progress = newest
                    continue
                stuck = sorted(active.values(), key=lambda a: a[2])
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
