"""Writes one task as one shard: {task_id}.tar, {task_id}.parquet, then {task_id}.stats.json (the marker).

Every input row is in the parquet with its status and reason; only ok samples go into the tar.
The same input and config give byte-identical tars and parquets: members carry a fixed mtime, and
per-sample timings go to the stats (which also hold wall-clock times and are not reproducible).
"""

from __future__ import annotations

import io
import json
import tarfile
import time
from typing import Any

import pyarrow.parquet as pq

from humanverse.core.sample import ERROR, OK, REJECTED
from humanverse.core.task import TaskPayload
from humanverse.shards import atomic
from humanverse.shards.records import sample_json, sidecar_row, sidecar_table
from humanverse.sources.keys import check_key, check_member_suffix

MEMBER_MTIME = 0
"""Every tar member's mtime (the epoch): a rerun writes the same bytes."""
MEMBER_MODE, MEMBER_OWNER = 0o444, "bigdata"
"""What webdataset's TarWriter stamps on every member: our tars are byte for byte the ones it wrote."""


def shard_paths(output: str, task_id: str) -> dict[str, str]:
    base = atomic.join(output, "shards", task_id)
    return {"tar": base + ".tar", "parquet": base + ".parquet", "stats": base + ".stats.json"}


def write_shard(output: str, task: TaskPayload) -> dict[str, Any]:
    """Publish the task's three files in order and return its stats (also the stats.json content)."""
    started = time.perf_counter()
    paths = shard_paths(output, task.task_id)
    rows, extra = [], []
    n_written = 0
    with atomic.staged_file(paths["tar"]) as tmp:
        with open(tmp, "wb") as stream, tarfile.open(fileobj=stream, mode="w|") as tar:
            for sample in task.samples:
                members: list[str] = []
                if sample.status == OK:
                    record = _tar_record(sample)
                    _add_record(tar, record)
                    members = sorted(k for k in record if not k.startswith("__"))
                    n_written += 1
                rows.append(sidecar_row(sample, members))
                extra.append(sample.columns)
        # built before the tar is published: a row the sidecar cannot hold leaves no orphan tar behind
        buf = io.BytesIO()
        pq.write_table(sidecar_table(rows, extra), buf)
    atomic.write_bytes(paths["parquet"], buf.getvalue())
    task.stage_seconds["write"] = time.perf_counter() - started
    stats = shard_stats(task, n_written)
    atomic.write_bytes(paths["stats"], json.dumps(stats, indent=1).encode())
    return stats


def _add_record(tar: tarfile.TarFile, record: dict[str, Any]) -> None:
    """One sample's members, `{key}.{suffix}` in sorted order, as webdataset's TarWriter lays them out.
    The standard library writes them: webdataset imports torch, which every writer actor would then pay
    for at start-up (~2 s and ~0.3 GB each)."""
    key = record["__key__"]
    for suffix in sorted(k for k in record if not k.startswith("_")):
        data = record[suffix]
        info = tarfile.TarInfo(f"{key}.{suffix}")
        info.size, info.mtime, info.mode = len(data), MEMBER_MTIME, MEMBER_MODE
        info.uname = info.gname = MEMBER_OWNER
        tar.addfile(info, io.BytesIO(data))


def _tar_record(sample) -> dict[str, Any]:
    key = check_key(sample.key)
    if sample.jpeg is None:
        raise ValueError(f"sample {key} is ok but has no jpeg bytes")
    record = {
        "__key__": key,
        "jpg": sample.jpeg,
        "txt": sample.caption.encode("utf-8"),
        "json": json.dumps(sample_json(sample)).encode("utf-8"),
    }
    for suffix, data in sample.members.items():
        if suffix in record:
            raise ValueError(f"sample {key}: member suffix {suffix!r} is taken")
        check_member_suffix(suffix)
        record[suffix] = data
    return record


def shard_stats(task: TaskPayload, n_written: int) -> dict[str, Any]:
    counts = {OK: 0, REJECTED: 0, ERROR: 0}
    reasons: dict[str, int] = {}
    transient = 0
    for s in task.samples:
        counts[s.status] += 1
        if s.status != OK:
            label = f"{s.status}:{s.stage}:{s.reason}"
            reasons[label] = reasons.get(label, 0) + 1
            transient += int(s.transient)
    return {
        "task_id": task.task_id,
        "input": len(task.samples),
        **counts,
        "written": n_written,
        "transient_errors": transient,
        "reasons": dict(sorted(reasons.items(), key=lambda kv: -kv[1])),
        "stages": task.counters,
        "stage_seconds": {k: round(v, 4) for k, v in task.stage_seconds.items()},
        "sample_seconds": _timing_summary(task),
        "source": {"input": task.spec.input_path, "start": task.spec.start, "stop": task.spec.stop},
        "finished_at": time.time(),
    }


def _timing_summary(task: TaskPayload) -> dict[str, dict[str, float]]:
    """Per-sample timings (e.g. each URL's fetch) as count / total / max per kind."""
    summary: dict[str, dict[str, float]] = {}
    for sample in task.samples:
        for kind, seconds in sample.timings.items():
            entry = summary.setdefault(kind, {"count": 0, "total": 0.0, "max": 0.0})
            entry["count"] += 1
            entry["total"] += seconds
            entry["max"] = max(entry["max"], seconds)
    return {k: {"count": v["count"], "total": round(v["total"], 3), "max": round(v["max"], 3)}
            for k, v in sorted(summary.items())}
