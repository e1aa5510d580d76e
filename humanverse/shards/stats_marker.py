"""Whether a shard's stats marker (`{task}.stats.json`) can be believed: a marker may be planted or left
by something else, so it counts only when its counts add up and (for a planned task) it describes the rows
that task holds. Its tar and parquet must exist too; the caller checks that from its listing."""

from __future__ import annotations

from typing import Any

from humanverse.core.sample import STATUSES

COUNT_KEYS = ("input", *STATUSES, "retried", "written", "transient_errors")
"""`retried`: rows of this shard that --retry-failed redid in a `-retryN` shard (retry_failed.py)."""


def marker_problem(stats: Any, task_id: str, source: dict[str, Any] | None = None) -> str | None:
    """None when the marker is believable, else why not. source: the planned task's input, start, stop."""
    if not isinstance(stats, dict):
        return "not a JSON object"
    counts = {k: stats.get(k, 0) for k in COUNT_KEYS}
    if not all(_count(v) for v in counts.values()):
        return "counts are not non-negative integers"
    if stats.get("task_id") != task_id:
        return f"names task {stats.get('task_id')!r}"
    if counts["input"] != sum(counts[s] for s in STATUSES) + counts["retried"]:
        return "input != ok + rejected + error + retried"
    if counts["written"] > counts["ok"] or counts["transient_errors"] > counts["error"]:
        return "more written than ok, or more transient errors than errors"
    shape = _shape_problem(stats)
    if shape is not None:
        return shape
    if source is not None:
        if stats.get("source") != source:
            return "describes other rows than this task's"
        if counts["input"] != source["stop"] - source["start"]:
            return "input differs from the task's row count"
    return None


def _shape_problem(stats: dict[str, Any]) -> str | None:
    """The summary's other fields, in the types funnel.totals reads them (a pulled run's marker is untrusted)."""
    reasons, stages, seconds = stats.get("reasons", {}), stats.get("stages", {}), stats.get("stage_seconds", {})
    if not isinstance(reasons, dict) or any(str(k).count(":") < 2 or not _count(v) for k, v in reasons.items()):
        return "reasons must map 'status:stage:reason' to counts"
    if not isinstance(stages, dict) or any(
            not isinstance(v, dict) or not _count(v.get("in", 0)) or not _count(v.get("ok", 0)) for v in stages.values()):
        return "stages must map a stage to {in, ok} counts"
    if not isinstance(seconds, dict) or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in seconds.values()):
        return "stage_seconds must map a stage to seconds"
    return None


def _count(value: Any) -> bool:
    return type(value) is int and value >= 0
