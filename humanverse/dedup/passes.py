"""The `humanverse dedup OUT` pass: read the complete shards' sidecars, find duplicates by each method,
mark them, and publish OUT/dedup/ (humanverse/shards/dedup_marks.py), the manifest last.

Resumable at two levels: per-shard features are cached under OUT/dedup/features/ (keyed by the sidecar's
sha256), and each method's result OUT/dedup/{method}.parquet is reused when the run (the digest of all
sidecars) and the method's parameters are unchanged. Nothing in OUT/shards/ is touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import humanverse
from humanverse.dedup.config import METHODS, VALIDATED_ON, DedupConfig
from humanverse.dedup.exact import exact_matches
from humanverse.dedup.executor import Executor
from humanverse.dedup.features import read_shard
from humanverse.dedup.marking import Matches, combine, resolve
from humanverse.dedup.perceptual import perceptual_matches
from humanverse.dedup.ranking import RULE, keep_rank
from humanverse.dedup.semantic import semantic_matches
from humanverse.imaging.pixel_digest import UNRECORDED
from humanverse.shards import atomic, funnel, run_manifest
from humanverse.shards.dedup_marks import MANIFEST_FILE, MARKS_FILE, dedup_dir

MARK_SCHEMA = pa.schema([
    ("key", pa.string()), ("task_id", pa.string()), ("duplicate_of", pa.string()),
    ("duplicate_of_task_id", pa.string()), ("matched", pa.string()), ("method", pa.string()),
    ("score", pa.float64()), ("detail", pa.string()),
])


class NoEmbeddings(ValueError):
    pass


@dataclass
class DedupResult:
    output: str
    samples: int
    marked: int
    per_method: dict[str, int]
    reused: list[str]
    skipped: dict[str, str]
    backfilled: int
    seconds: dict[str, float] = field(default_factory=dict)


def run_dedup(output: str, cfg: DedupConfig, executor: Executor, force: bool = False,
              methods_explicit: bool = False) -> DedupResult:
    started = time.time()
    seconds: dict[str, float] = {}
    task_ids = sorted(s["task_id"] for s in funnel.load_stats(output))
    if not task_ids:
        raise FileNotFoundError(f"{output} has no complete shards (no shards/*.stats.json)")
    methods = [m for m in METHODS if m in cfg.methods]
    need_fp = "perceptual" in methods or ("exact" in methods and cfg.exact.pixels)
    run = _run_record(output)
    pixel_digest = run_manifest.pixel_digest_of(run) if run is not None else UNRECORDED  # what a backfill computes

    t = time.perf_counter()
    handles = [executor.submit(read_shard, output, tid, need_fp, "semantic" in methods, pixel_digest, num_returns=2)
               for tid in task_ids]
    shards = executor.get([h[0] for h in handles])
    emb_handles = [h[1] for h in handles]
    seconds["read"] = time.perf_counter() - t
    run_digest = hashlib.sha256("".join(f"{s.task_id}:{s.sidecar_sha256}\n" for s in shards).encode()).hexdigest()
    table = pa.concat_tables([s.table for s in shards])
    n = table.num_rows
    keys = np.asarray(table.column("key").to_pylist(), dtype=object)
    task_of = np.asarray(table.column("task_id").to_pylist(), dtype=object)
    rank = keep_rank(keys, _floats(table, "aesthetic"), _floats(table, "width"), _floats(table, "height"))

    skipped: dict[str, str] = {}
    if "semantic" in methods and not any(s.has_embeddings for s in shards):
        why = "no clip_embedding column in the sidecars: curate with `--set clip.keep_embeddings=true`"
        if methods_explicit:
            raise NoEmbeddings(f"semantic dedup asked for, but {why}")
        methods.remove("semantic")
        skipped["semantic"] = why

    per_method: dict[str, Matches] = {}
    reused: list[str] = []
    method_info: dict[str, dict] = {}
    for method in methods:
        t = time.perf_counter()
        phases: dict = {}
        digest = cfg.method_digest(method)
        cached = None if force else _load_method(output, method, run_digest, digest, keys)
        if cached is not None:
            per_method[method] = cached
            reused.append(method)
        else:
            if method == "exact":
                per_method[method] = exact_matches(table, rank, cfg)
            elif method == "perceptual":
                per_method[method] = perceptual_matches(executor, table, rank, cfg)
            else:
                offsets = np.cumsum([0, *[s.table.num_rows for s in shards[:-1]]]).tolist()
                blocks = [(h, off, s.table.num_rows) for h, off, s in zip(emb_handles, offsets, shards)
                          if s.has_embeddings]  # rows of other shards take no part
                per_method[method] = semantic_matches(executor, blocks, n, rank, cfg, phases)
            _write_marks(_method_path(output, method), per_method[method], None, keys, task_of,
                         {"run_digest": run_digest, "params_digest": digest})
        seconds[method] = time.perf_counter() - t
        method_info[method] = {"params": cfg.method_params(method), "params_digest": digest,
                               "defaults_validated_on": VALIDATED_ON[method],
                               "marked": per_method[method].n_marked, "reused": method in reused,
                               "file": f"{method}.parquet", "seconds": round(seconds[method], 3),
                               **({"phases": phases} if phases else {})}

    combined, method_of = combine([per_method[m] for m in methods]) if methods else (Matches.none("", n), None)
    _write_marks(atomic.join(dedup_dir(output), MARKS_FILE), combined, method_of, keys, task_of,
                 {"run_digest": run_digest})
    result = DedupResult(output, n, combined.n_marked, {m: per_method[m].n_marked for m in methods}, reused,
                         skipped, sum(s.backfilled for s in shards), seconds)
    _write_manifest(output, run, pixel_digest, cfg, run_digest, shards, method_info, result, started)
    return result


def _floats(table: pa.Table, name: str) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in table.column(name).to_pylist()], dtype=np.float64)


def _method_path(output: str, method: str) -> str:
    return atomic.join(dedup_dir(output), f"{method}.parquet")


def _write_marks(url: str, matches: Matches, method_of, keys: np.ndarray, task_of: np.ndarray,
                 metadata: dict[str, str]) -> None:
    marked = np.flatnonzero(matches.matched >= 0)
    dup_of = resolve(matches.matched)
    table = pa.Table.from_pydict({
        "key": keys[marked].tolist(), "task_id": task_of[marked].tolist(),
        "duplicate_of": keys[dup_of[marked]].tolist(), "duplicate_of_task_id": task_of[dup_of[marked]].tolist(),
        "matched": keys[matches.matched[marked]].tolist(),
        "method": (method_of[marked].tolist() if method_of is not None else [matches.method] * len(marked)),
        "score": matches.score[marked].tolist(), "detail": matches.detail[marked].tolist(),
    }, schema=MARK_SCHEMA).replace_schema_metadata(metadata)
    buf = io.BytesIO()
    pq.write_table(table, buf)
    atomic.write_bytes(url, buf.getvalue())


def _load_method(output: str, method: str, run_digest: str, params_digest: str, keys: np.ndarray) -> Matches | None:
    fs, path = fsspec.core.url_to_fs(_method_path(output, method))
    if not fs.exists(path):
        return None
    with fs.open(path, "rb") as f:
        table = pq.read_table(f)
    meta = table.schema.metadata or {}
    if meta.get(b"run_digest", b"").decode() != run_digest or meta.get(b"params_digest", b"").decode() != params_digest:
        return None
    position = {k: i for i, k in enumerate(keys.tolist())}
    out = Matches.none(method, len(keys))
    rows = table.to_pylist()
    if any(r["key"] not in position or r["matched"] not in position for r in rows):
        return None
    for r in rows:
        i = position[r["key"]]
        out.matched[i], out.score[i], out.detail[i] = position[r["matched"]], r["score"], r["detail"]
    return out


def _run_record(output: str) -> dict | None:
    try:
        return run_manifest.read_run_json(output)
    except ValueError:  # a run.json that is not a bounded json object (the run may come from others)
        return None


def _write_manifest(output: str, run: dict | None, pixel_digest: str, cfg: DedupConfig, run_digest: str, shards,
                    method_info: dict, result: DedupResult, started: float) -> None:
    run = run or {}
    manifest = {
        "humanverse_version": humanverse.__version__,
        "started_at": started,
        "finished_at": time.time(),
        "run": {"config_digest": run.get("config_digest"), "input_digest": run.get("input_digest"),
                "sidecars_digest": run_digest, "pixel_digest": pixel_digest},
        "keep_rule": RULE,
        "samples": result.samples,
        "marked": result.marked,
        "kept": result.samples - result.marked,
        "marks": MARKS_FILE,
        "methods": method_info,
        "skipped_methods": result.skipped,
        "fingerprints_backfilled": result.backfilled,
        "config": cfg.model_dump(mode="json"),
        "shards": [{"task_id": s.task_id, "sidecar_sha256": s.sidecar_sha256, "ok_rows": s.table.num_rows,
                    "fingerprints_backfilled": s.backfilled} for s in shards],
    }
    atomic.write_bytes(atomic.join(dedup_dir(output), MANIFEST_FILE), json.dumps(manifest, indent=1).encode())
