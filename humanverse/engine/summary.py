"""The closing summary a data engineer reads: where the output is, what happened, and what failed."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from humanverse.shards.funnel import funnel_table
from humanverse.engine.task_runner import failed_report_path


def print_summary(result, demo: bool, console: Console) -> None:
    c = result.summary.get("counts", {})
    table = Table(title="curate summary", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    rows = [
        ("output", result.output),
        ("tasks", f"{result.tasks_total} ({result.tasks_skipped} resumed as complete, {result.tasks_done} run now, "
                  f"{len(result.failed)} failed)"),
        ("input rows", c.get("input", 0)),
        ("ok (written)", c.get("ok", 0)),
        ("rejected", c.get("rejected", 0)),
        ("errors", c.get("error", 0)),
        ("wall time", f"{result.seconds:.1f} s"),
        ("rows/s", f"{c.get('input', 0) / max(result.seconds, 1e-9):.2f}"),
    ]
    for k, v in rows:
        table.add_row(k, str(v))
    console.print(funnel_table(result.summary, demo))
    console.print(table)
    if result.failed:
        console.print(f"[red]{len(result.failed)} task(s) failed[/red]; rerun the same command to retry them:")
        for task_id, why in sorted(result.failed.items()):
            console.print(f"  {task_id}: {why}  -> {failed_report_path(result.output, task_id)}")
    console.print(f"shards: {result.output}/shards/  run record: {result.output}/run.json")
