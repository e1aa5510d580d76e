"""`humanverse curate` from top to bottom: plan tasks, decide what to resume, stream every pending task
through the stage groups (on Ray Data, or in this process with engine="local"), publish one shard per
task, and summarise.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from rich.console import Console

from humanverse.config import CurateConfig
from humanverse.console import make_console
from humanverse.dataset_card import write_dataset_card
from humanverse.engine import planner
from humanverse.engine.done_tasks import DoneTasks
from humanverse.engine import retry_failed as retry_failed_rows
from humanverse.engine.local import local_rows
from humanverse.engine.progress import CurateProgress
from humanverse.engine.task_feed import ListFeed, PlanFeed
from humanverse.engine.ray_executor import ray_rows
from humanverse.engine.task_runner import failed_report_path
from humanverse.model_provenance import provenance_line
from humanverse.models.demo_weights import ensure_demo_models
from humanverse.shards import atomic, funnel, run_manifest
from humanverse.plan import build_stage_groups


ENGINES = ("ray", "local")


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
    engine: str = "ray",
) -> CurateResult:
    """engine: "ray" (an embedded local Ray, or the cluster at `address`) or "local" (this process, no Ray)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    console = console or make_console(stderr=True)
    started = time.perf_counter()

    # 1. Plan: inputs -> tasks with stable ids. Build stages now so missing model files fail before work.
    plan = planner.plan(inputs, cfg.input.format, cfg.input.column_map, cfg.input.rows_per_task, cfg.input.dataset)
    if cfg.demo:
        console.print(f"[yellow]demo preset: {provenance_line(cfg)}; thresholds of untrained scoring stages "
                      "are off.[/yellow]")
        ensure_demo_models(cfg.models_dir, say=console.print)
    groups = build_stage_groups(cfg, allow_private_urls)

    # 2. Resume: refuse a changed config or input list; skip tasks whose stats marker exists (one listing).
    previous = run_manifest.check_resume(output, cfg.digest(), plan.digest(), force)
    atomic.remove_stale_temporaries(atomic.join(output, "shards"))
    done = DoneTasks.listed(output, plan)
    feed: PlanFeed | ListFeed = PlanFeed(plan, done)
    retry_sources: dict[str, str] = {}
    if retry_failed:
        if feed.pending:
            console.print(f"[yellow]{feed.pending} task(s) are incomplete; --retry-failed leaves them for a plain rerun[/yellow]")
        retries, retry_sources = retry_failed_rows.plan_retries(output, plan)
        feed = ListFeed(retries)
        console.print(f"--retry-failed: {sum(len(t.rows) for t in retries)} transiently failed rows in {len(retries)} shard(s)")
    models = {k: v for g in groups for s in g.stages for k, v in s.model_ids().items()}
    record = run_manifest.new_record(
        cfg.model_dump(mode="json"), cfg.digest(), plan.digest(),
        [{"path": i.path, "format": i.format, "rows": i.rows} for i in plan.inputs], models,
    )
    if previous:
        record["started_at"] = previous.get("started_at", record["started_at"])
        record["resumed"] = previous.get("resumed", 0) + 1
    run_manifest.write_run_json(output, record)
    console.print(f"{plan.num_tasks} tasks over {plan.total_rows} rows from {len(plan.inputs)} input(s); "
                  f"{done.count} already complete, {feed.pending} to run")

    # 3. Run the pending tasks through the stage groups (Ray Data, one dataset row per task; or locally).
    failed: dict[str, str] = {}
    if feed.pending:
        failed = _run_pending(cfg, groups, feed, output, console, retry_sources, engine, address)

    # 4. Summarise from the stats markers (this run's and earlier runs'), and close run.json.
    summary = funnel.totals(funnel.load_stats(output))
    record.update(finished_at=time.time(), status="failed" if failed else "complete",
                  counts=summary["counts"], failed_tasks=sorted(failed))
    run_manifest.write_run_json(output, record)
    write_dataset_card(output, cfg, record, summary)
    return CurateResult(output, plan.num_tasks, done.count, feed.pending - len(failed), failed, summary,
                        time.perf_counter() - started)


def _run_pending(cfg: CurateConfig, groups, feed, output: str, console: Console, retry_sources: dict[str, str],
                 engine: str, address: str | None) -> dict[str, str]:
    """Run the feed's tasks on the chosen executor; publish retry marks and collect failures as results arrive."""
    if engine == "local":
        rows = local_rows(cfg, groups, feed, output, console)
    else:
        rows = ray_rows(cfg, groups, feed, output, console, address)
    failed: dict[str, str] = {}
    specs = {t.task_id: t for t in feed.specs} if retry_sources else {}
    with rows as results, CurateProgress(feed.pending, cfg.run.progress, console) as progress:
        for row in results:
            stats = json.loads(row["stats"])
            if row["failed"]:
                failed[row["task_id"]] = row["failed"]
                console.print(f"[red]task {row['task_id']} failed[/red]: {row['failed']} "
                              f"(details: {failed_report_path(output, row['task_id'])})")
            elif row["task_id"] in retry_sources:
                retry_failed_rows.mark_retried(output, retry_sources[row["task_id"]], row["task_id"],
                                               specs[row["task_id"]].rows)
            progress.task_done(stats)
    return failed
