"""The filter funnel: how many rows each stage saw and dropped, and why, summed over shard stats."""

from __future__ import annotations

import logging
from collections import Counter

import fsspec
from rich.table import Table

from humanverse.console import untrusted_text
from humanverse.shards import atomic
from humanverse.shards.stats_marker import COUNT_KEYS, marker_problem
from humanverse.shards.untrusted import BadSample, read_json_file
from humanverse.sources.keys import check_task_id

log = logging.getLogger(__name__)
MARKER_SUFFIX = ".stats.json"
MAX_MARKER_BYTES = 16 * 1024 * 1024


def load_stats(output: str, bad: Counter | None = None) -> list[dict]:
    """The stats markers of OUT/shards/, each checked (a run folder may come from others): the task id is the
    marker's file name, which must pass check_task_id and match the `task_id` inside; counts are
    non-negative integers and reasons `status:stage:reason` labels. A marker that fails is left out (not a
    complete task), counted in `bad` and logged."""
    fs, root = fsspec.core.url_to_fs(atomic.join(output, "shards"))
    if not fs.exists(root):
        return []
    out = []
    for path in sorted(fs.glob(root + "/*" + MARKER_SUFFIX)):
        task_id = path.rpartition("/")[2][: -len(MARKER_SUFFIX)]
        try:
            check_task_id(task_id)
            stats = read_json_file(atomic.join(output, "shards", task_id + MARKER_SUFFIX), MAX_MARKER_BYTES)
            if stats is not None:  # None: removed since the listing
                out.append(check_marker(stats, task_id))
        except (ValueError, BadSample) as exc:
            if bad is not None:
                bad["bad_stats_marker"] += 1
            log.warning("%s: stats marker left out (%s)", ascii(path), exc)
    return out


def check_marker(stats: dict, task_id: str) -> dict:
    """The marker as it is when it can be believed (stats_marker.py: counts that add up, the summary's fields in
    the types totals() reads); ValueError otherwise."""
    problem = marker_problem(stats, task_id)
    if problem is not None:
        raise ValueError(problem)
    return {**stats, "task_id": task_id}


def totals(stats: list[dict]) -> dict:
    out = Counter()
    reasons = Counter()
    stage_in: dict[str, int] = {}
    stage_ok: dict[str, int] = {}
    seconds = Counter()
    order: list[str] = []
    for s in stats:
        for key in COUNT_KEYS:
            out[key] += int(s.get(key, 0))
        reasons.update(s.get("reasons", {}))
        for stage, counters in s.get("stages", {}).items():
            if stage not in order:
                order.append(stage)
            stage_in[stage] = stage_in.get(stage, 0) + counters.get("in", 0)
            stage_ok[stage] = stage_ok.get(stage, 0) + counters.get("ok", 0)
        seconds.update(s.get("stage_seconds", {}))
    # A retried row is counted again, with its final status, in the retry shard's stats.
    out["input"] -= out.pop("retried", 0)
    return {
        "counts": dict(out),
        "reasons": dict(reasons.most_common()),
        "stages": [{"stage": st, "in": stage_in[st], "ok": stage_ok[st]} for st in order],
        "stage_seconds": {k: round(v, 2) for k, v in seconds.items()},
        "tasks": len(stats),
    }


def as_stats(summary: dict) -> dict:
    """totals() in the form of one marker, so sums can be summed again (the driver folds markers as it
    reads them instead of keeping a million dicts)."""
    return {**summary["counts"], "reasons": summary["reasons"], "stage_seconds": summary["stage_seconds"],
            "stages": {row["stage"]: {"in": row["in"], "ok": row["ok"]} for row in summary["stages"]}}


def funnel_table(summary: dict, demo: bool) -> Table:
    table = Table(title="filter funnel" + (" (demo: thresholds of untrained scoring stages off)" if demo else ""))
    table.add_column("stage")
    table.add_column("in", justify="right")
    table.add_column("kept", justify="right")
    table.add_column("dropped: reason (count)")
    for row in summary["stages"]:
        st = row["stage"]
        why = [f"{r.split(':', 2)[0]} {r.split(':', 2)[2]} ({n})" for r, n in summary["reasons"].items() if r.split(":")[1] == st]
        table.add_row(untrusted_text(st), str(row["in"]), str(row["ok"]), untrusted_text(", ".join(why)))
    c = summary["counts"]
    table.caption = (
        f"input {c.get('input', 0)} = ok {c.get('ok', 0)} + rejected {c.get('rejected', 0)} + errors {c.get('error', 0)}"
        f"  ({c.get('transient_errors', 0)} transient errors can be retried with --retry-failed)"
    )
    return table
