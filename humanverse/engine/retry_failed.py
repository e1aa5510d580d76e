"""`--retry-failed`: re-attempt only the rows that failed transiently (timeouts, 5xx, connection errors).

The re-attempted rows keep their keys and go into a new shard `{task_id}-retry{n}`; once it is published,
the original sidecar marks those rows `retried` (reason `retried_in:<new task>`), so every key still has
exactly one final row and appears in at most one tar. Nothing else is touched.
"""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import fsspec
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from humanverse.engine.planner import Plan
from humanverse.core.task import TaskSpec
from humanverse.shards import atomic
from humanverse.shards.writer import shard_paths

RETRIED = "retried"
_RETRY_SUFFIX = re.compile(r"-retry(\d+)$")


def plan_retries(output: str, plan: Plan, believed=lambda task_id: True) -> tuple[list[TaskSpec], dict[str, str]]:
    """Retry tasks for every complete shard with transient errors; also returns new task -> source task.
    believed: whether a shard's marker counts (done_tasks.DoneTasks.believes); others are never retried."""
    fs, shard_dir = fsspec.core.url_to_fs(atomic.join(output, "shards"))
    if not fs.exists(shard_dir):
        return [], {}
    by_path = {i.path: (index, i.format) for index, i in enumerate(plan.inputs)}
    existing = {p.rsplit("/", 1)[-1].split(".")[0] for p in fs.glob(shard_dir + "/*.stats.json")}
    specs, sources = [], {}
    for task_id in sorted(existing):
        if not believed(task_id):
            continue
        stats = json.loads(fs.cat_file(f"{shard_dir}/{task_id}.stats.json"))
        if not stats.get("transient_errors"):
            continue
        table = pq.read_table(io.BytesIO(fs.cat_file(f"{shard_dir}/{task_id}.parquet")),
                              columns=["status", "transient", "input", "row"])
        mask = pc.and_(pc.equal(table["status"], "error"), pc.equal(table["transient"], True))
        todo = table.filter(mask)
        if todo.num_rows == 0:
            continue
        path = todo["input"][0].as_py()
        if path not in by_path:
            raise ValueError(f"shard {task_id} came from {path}, which is not among the current inputs")
        index, fmt = by_path[path]
        rows = tuple(sorted(todo["row"].to_pylist()))
        new_id = _next_retry_id(task_id, existing)
        existing.add(new_id)
        specs.append(TaskSpec(new_id, path, fmt, rows[0], rows[-1] + 1, index, rows))
        sources[new_id] = task_id
    return specs, sources


def _next_retry_id(task_id: str, existing: set[str]) -> str:
    base = _RETRY_SUFFIX.sub("", task_id)
    n = 1
    while f"{base}-retry{n}" in existing:
        n += 1
    return f"{base}-retry{n}"


def mark_retried(output: str, source_task: str, retry_task: str, retried_rows: tuple[int, ...]) -> dict:
    """Point the source sidecar's rows at the retry shard, then refresh its stats (marker last); returns
    the refreshed stats."""
    paths = shard_paths(output, source_task)
    fs, parquet_path = fsspec.core.url_to_fs(paths["parquet"])
    table = pq.read_table(io.BytesIO(fs.cat_file(parquet_path)))
    rows = table.to_pylist()
    wanted = set(retried_rows)
    for r in rows:
        if r["status"] == "error" and r["transient"] and r["row"] in wanted:
            r["status"], r["reason"] = RETRIED, f"retried_in:{retry_task}"
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), buf)
    atomic.write_bytes(paths["parquet"], buf.getvalue())

    stats = json.loads(fs.cat_file(fsspec.core.url_to_fs(paths["stats"])[1]))
    counts = Counter(r["status"] for r in rows)
    reasons = Counter(f"{r['status']}:{r['stage']}:{r['reason']}" for r in rows if r["status"] not in ("ok", RETRIED))
    stats.update(
        ok=counts.get("ok", 0), rejected=counts.get("rejected", 0), error=counts.get("error", 0),
        retried=counts.get(RETRIED, 0), transient_errors=sum(1 for r in rows if r["status"] == "error" and r["transient"]),
        reasons=dict(reasons.most_common()),
    )
    atomic.write_bytes(paths["stats"], json.dumps(stats, indent=1).encode())
    return stats
