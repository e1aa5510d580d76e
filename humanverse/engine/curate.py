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
from humanverse.engine import input_identity, resume
from humanverse.engine.done_tasks import DoneTasks, failed_report_ids, remove_shards
from humanverse.engine.run_lock import RunLock
from humanverse.engine import retry_failed as retry_failed_rows
from humanverse.engine.local import local_rows
from humanverse.engine.progress import CurateProgress
from humanverse.engine.task_feed import ListFeed, PlanFeed
from humanverse.engine.ray_executor import ray_rows
from humanverse.engine.task_runner import failed_report_path
from humanverse.model_provenance import ensure_demo_models, provenance_line
from humanverse.shards import atomic, funnel, run_manifest
from humanverse.plan import build_stage_groups, use_pixel_digest


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

    # 2. Resume: one curate per output (run_lock.py); keep only the finished tasks of unchanged inputs.
    with RunLock(output) as lock:
        if lock.took_over:
            console.print(f"[yellow]took over a stale lock of pid {lock.took_over.get('pid')} on "
                          f"{lock.took_over.get('host')} (that process is gone)[/yellow]")
        return _resume_and_run(cfg, plan, groups, output, force, console, retry_failed, engine, address, started)


def _resume_and_run(cfg: CurateConfig, plan, groups, output: str, force: bool, console: Console,
                    retry_failed: bool, engine: str, address: str | None, started: float) -> CurateResult:
    decision = resume.decide(output, cfg.digest(), cfg.input.rows_per_task, plan,
                             input_identity.identities([i.path for i in plan.inputs]), force,
                             cfg.resumes)
    previous = decision.previous
    pixel_digest = run_manifest.pixel_digest_of(previous)  # a resumed run keeps its definition
    use_pixel_digest(groups, pixel_digest)
    atomic.remove_stale_temporaries(atomic.join(output, "shards"))
    done = DoneTasks.listed(output, plan, decision.keep)
    _say_what_resumes(output, done, decision, console)
    feed: PlanFeed | ListFeed = PlanFeed(plan, done)
    retry_sources: dict[str, str] = {}
    if retry_failed:
        if feed.pending:
            console.print(f"[yellow]{feed.pending} task(s) are incomplete; --retry-failed leaves them for a plain rerun[/yellow]")
        retries, retry_sources = retry_failed_rows.plan_retries(output, plan, done.believes)
        feed = ListFeed(retries)
        console.print(f"--retry-failed: {sum(len(t.rows) for t in retries)} transiently failed rows in {len(retries)} shard(s)")
    models = {k: v for g in groups for s in g.stages for k, v in s.model_ids().items()}
    record = run_manifest.new_record(
        cfg.model_dump(mode="json"), cfg.digest(), plan.digest(),
        resume.input_records(plan, decision.identities), models, pixel_digest,
    )
    if previous:
        record["started_at"] = previous.get("started_at", record["started_at"])
        record["resumed"] = previous.get("resumed", 0) + 1
    run_manifest.write_run_json(output, record)
    console.print(f"{plan.num_tasks} tasks over {plan.total_rows} rows from {len(plan.inputs)} input(s); "
                  f"{done.count} already complete, {feed.pending} to run")

    # 3. Run the pending tasks through the stage groups (Ray Data, one dataset row per task; or locally).
    failed: dict[str, str] = {}
    new_stats: dict[str, dict] = {}
    if feed.pending:
        failed = _run_pending(cfg, groups, feed, output, console, retry_sources, engine, address, new_stats)

    # 4. Summarise from the believed markers of earlier runs and this run's results; close run.json.
    summed = done
    if retry_sources:  # mark_retried rewrote earlier markers: sum them as they are now
        summed, new_stats = DoneTasks.listed(output, plan, decision.keep), {}
    summary = funnel.totals(summed.stats + list(new_stats.values()))
    summary["tasks"] = summed.believed + len(new_stats)
    record.update(finished_at=time.time(), status="failed" if failed else "complete",
                  counts=summary["counts"], failed_tasks=sorted(failed))
    run_manifest.write_run_json(output, record)
    write_dataset_card(output, cfg, record, summary)
    return CurateResult(output, plan.num_tasks, done.count, feed.pending - len(failed), failed, summary,
                        time.perf_counter() - started)


def _run_pending(cfg: CurateConfig, groups, feed, output: str, console: Console, retry_sources: dict[str, str],
                 engine: str, address: str | None, new_stats: dict[str, dict]) -> dict[str, str]:
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
            else:
                new_stats[row["task_id"]] = stats
            if not row["failed"] and row["task_id"] in retry_sources:
                source = retry_sources[row["task_id"]]
                new_stats[source] = retry_failed_rows.mark_retried(output, source, row["task_id"],
                                                                   specs[row["task_id"]].rows)
            progress.task_done(stats)
    return failed


def _say_what_resumes(output: str, done: DoneTasks, decision: resume.ResumeDecision, console: Console) -> None:
    """--force over a changed input list: remove the shards that belong to no kept task, and say so; and
    name markers that were found but not believed (those tasks are redone)."""
    if decision.changed:
        stale = done.stale | {t for t in failed_report_ids(output) if done.foreign(t)}
        removed = remove_shards(output, stale)
        kept = sum(decision.keep)
        console.print(f"[yellow]--force: {output} was written with {' and with '.join(decision.changed)}. "
                      f"Finished tasks of the {kept} unchanged input(s) are kept ({done.count}); {removed} shard(s) of "
                      f"inputs that changed or are no longer listed were removed; every other task runs now."
                      "[/yellow]", highlight=False)
    for task_id, why in done.untrusted[:5]:
        console.print(f"[yellow]shard {task_id}: its stats marker is not believed ({why}); the task is redone[/yellow]",
                      highlight=False)
    if len(done.untrusted) > 5:
        console.print(f"[yellow]... and {len(done.untrusted) - 5} more such shards[/yellow]")
