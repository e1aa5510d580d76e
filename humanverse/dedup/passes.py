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
import math
import time
from dataclasses import dataclass, field

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

import humanverse
from humanverse.dedup import hamming, kmeans, semdedup
from humanverse.dedup.config import METHODS, DedupConfig
from humanverse.dedup.executor import Executor
from humanverse.dedup.features import read_shard
from humanverse.dedup.fingerprint import PHASH_BITS, hex_to_u64
from humanverse.dedup.marking import (
    Matches,
    best_better_neighbour,
    combine,
    groups_to_matches,
    resolve,
)
from humanverse.dedup.ranking import RULE, keep_rank
from humanverse.pipeline import funnel, run_manifest
from humanverse.shards import atomic
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

    t = time.perf_counter()
    handles = [executor.submit(read_shard, output, tid, need_fp, "semantic" in methods, num_returns=2)
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
                               "marked": per_method[method].n_marked, "reused": method in reused,
                               "file": f"{method}.parquet", "seconds": round(seconds[method], 3),
                               **({"phases": phases} if phases else {})}

    combined, method_of = combine([per_method[m] for m in methods]) if methods else (Matches.none("", n), None)
    _write_marks(atomic.join(dedup_dir(output), MARKS_FILE), combined, method_of, keys, task_of,
                 {"run_digest": run_digest})
    result = DedupResult(output, n, combined.n_marked, {m: per_method[m].n_marked for m in methods}, reused,
                         skipped, sum(s.backfilled for s in shards), seconds)
    _write_manifest(output, cfg, run_digest, shards, method_info, result, started)
    return result


def exact_matches(table: pa.Table, rank: np.ndarray, cfg: DedupConfig) -> Matches:
    """Pixel-identical images first, then the same normalised URL; both score 1."""
    found = []
    if cfg.exact.pixels:
        found.append(groups_to_matches("exact", _group_ids(table.column("pixel_sha256")), rank, "same pixel sha256"))
    if cfg.exact.url:
        found.append(groups_to_matches("exact", _group_ids(table.column("url_key")), rank, "same normalised url"))
    if not found:
        return Matches.none("exact", len(rank))
    merged, _ = combine(found)
    merged.method = "exact"
    return merged


def perceptual_matches(executor: Executor, table: pa.Table, rank: np.ndarray, cfg: DedupConfig) -> Matches:
    """pHash pairs within max_distance bits (and mirrored pairs), one Ray task per band and direction.

    Samples with the same pHash are grouped first and only each group's best-ranked sample takes part in
    the lookups: a stock photo copied 10,000 times is then one code, not 10^8 candidate pairs. Under the
    SemDeDup rule this marks the same samples as comparing every copy (mirrored lookups use the
    representative's mirror hash)."""
    p = cfg.perceptual
    n = len(rank)
    phash = table.column("phash").to_pylist()
    valid = np.flatnonzero([h is not None for h in phash])
    if not len(valid):
        return Matches.none("perceptual", n)
    codes, inverse = np.unique(hex_to_u64([phash[i] for i in valid]), return_inverse=True)
    group = np.full(n, -1, np.int64)
    group[valid] = inverse
    same = groups_to_matches("perceptual", group, rank, "phash hamming 0")
    order = valid[np.lexsort((rank[valid], inverse))]
    starts = np.r_[True, group[order][1:] != group[order][:-1]]
    rep = order[starts]  # best-ranked sample of each distinct code, in code order
    index = executor.put(codes)
    queries = {"": index}
    if p.mirror:
        mirror = table.column("phash_mirror").to_pylist()
        queries[" (mirrored)"] = executor.put(hex_to_u64([mirror[int(i)] for i in rep]))
    a, b, score, detail = [], [], [], []
    for label, q in queries.items():
        parts = executor.get([executor.submit(hamming.band_pairs, index, q, p.max_distance, band, p.bands)
                              for band in range(p.bands)])
        qi, ii, dist = hamming.unique_pairs(*(np.concatenate(x) for x in zip(*parts)), drop_self=True)
        a.append(rep[qi])
        b.append(rep[ii])
        score.append(1.0 - dist / PHASH_BITS)
        detail.append(np.array([f"phash hamming {d}{label}" for d in dist], dtype=object))
    near = best_better_neighbour("perceptual", n, np.concatenate(a), np.concatenate(b), np.concatenate(score),
                                 rank, np.concatenate(detail))
    merged, _ = combine([same, near])
    merged.method = "perceptual"
    return merged


def semantic_matches(executor: Executor, blocks: list[tuple], n: int, rank: np.ndarray, cfg: DedupConfig,
                     timings: dict | None = None) -> Matches:
    """SemDeDup: k-means on Ray (partial sums per block), then the within-cluster step in partitions.

    blocks: (handle of a float16 rows x dim array, global index of its first row, rows) per shard with
    embeddings; n: all samples of the run (rank is over them). `timings`, when given, receives the seconds
    of each phase and the sizes that decide them."""
    s = cfg.semantic
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    out = Matches.none("semantic", n)
    blocks = [(h, size, off) for h, off, size in blocks if size]
    m = sum(size for _, size, _ in blocks)
    if m < 2:
        return out
    k = max(1, min(m, s.clusters or math.ceil(m / s.cluster_size)))
    train = min(m, k * s.train_per_cluster)
    samples = [executor.submit(_sample_rows, h, math.ceil(size * train / m), s.seed + i)
               for i, (h, size, _) in enumerate(blocks)]
    # one training chunk per worker, so each k-means step is a few tasks whatever the number of shards
    chunks = max(1, min(len(samples), executor.parallelism))
    samples = [executor.submit(_concat_rows, *[samples[i] for i in group])
               for group in np.array_split(np.arange(len(samples)), chunks)]
    seeds = executor.get([executor.submit(_sample_rows, h, math.ceil(size * k / m) + 1, s.seed + i)
                          for i, (h, size, _) in enumerate(blocks)])
    centroids = kmeans.init_centroids(np.concatenate(seeds), k, s.seed)
    previous = -np.inf
    iteration = 0
    for iteration in range(1, s.iterations + 1):
        c = executor.put(centroids)
        parts = executor.get([executor.submit(kmeans.partial_sums, h, c) for h in samples])
        sums = np.sum([p[0] for p in parts], axis=0)
        counts = np.sum([p[1] for p in parts], axis=0)
        objective = float(sum(p[2] for p in parts))
        centroids = kmeans.update(centroids, sums, counts)
        if objective - previous <= 1e-5 * max(1.0, abs(objective)):
            break
        previous = objective
    timings.update(kmeans_s=time.perf_counter() - t0, clusters=k, train_rows=train, iterations=iteration)
    t0 = time.perf_counter()
    c = executor.put(centroids)
    partitions = max(1, min(k, s.partitions or 2 * executor.parallelism))
    pieces = [executor.submit(_split_by_cluster, h, c, rank[off:off + size], off, partitions,
                              num_returns=partitions) for h, size, off in blocks]
    pieces = [p if partitions > 1 else (p,) for p in pieces]
    results = executor.get([executor.submit(_partition_matches, s.threshold, *[p[j] for p in pieces])
                            for j in range(partitions)])
    timings.update(assign_and_pairs_s=time.perf_counter() - t0, partitions=partitions,
                   pairs_task_s=sum(r[3] for r in results), pairs_compared=sum(r[4] for r in results))
    member = np.concatenate([r[0] for r in results]) if results else np.zeros(0, np.int64)
    match = np.concatenate([r[1] for r in results]) if results else np.zeros(0, np.int64)
    sim = np.concatenate([r[2] for r in results]) if results else np.zeros(0, np.float32)
    out.matched[member] = match
    out.score[member] = sim
    out.detail[member] = [f"clip cosine {v:.4f}" for v in sim]
    return out


def _sample_rows(block: np.ndarray, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = min(m, len(block))
    return block[np.sort(rng.choice(len(block), size=m, replace=False))]


def _concat_rows(*blocks: np.ndarray) -> np.ndarray:
    return np.concatenate(blocks)


def _split_by_cluster(block: np.ndarray, centroids: np.ndarray, rank: np.ndarray, offset: int, partitions: int):
    labels, _ = kmeans.assign(block, centroids)
    part = labels % partitions
    pieces = []
    for j in range(partitions):
        rows = np.flatnonzero(part == j)
        pieces.append((rows + offset, labels[rows], rank[rows], block[rows]))
    return pieces[0] if partitions == 1 else tuple(pieces)


def _partition_matches(threshold: float, *pieces) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """(member, match, cosine) over this partition's clusters, plus its compute seconds and the number of
    similarities it computed (sum of n_c^2 / 2), for the scale figures."""
    started = time.perf_counter()
    labels = np.concatenate([p[1] for p in pieces])
    order = np.argsort(labels, kind="stable")
    # sorted by cluster once, so each cluster below is a view, not a copy
    labels = labels[order]
    index = np.concatenate([p[0] for p in pieces])[order]
    rank = np.concatenate([p[2] for p in pieces])[order]
    emb = np.concatenate([p[3] for p in pieces])[order]
    del pieces
    bounds = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1], True])
    member, match, sim = [], [], []
    compared = int(sum((hi - lo) * (hi - lo - 1) // 2 for lo, hi in zip(bounds[:-1], bounds[1:])))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        m, b, s = semdedup.cluster_matches(emb[lo:hi], rank[lo:hi], threshold)
        member.append(index[lo:hi][m])
        match.append(index[lo:hi][b])
        sim.append(s)
    seconds = time.perf_counter() - started
    if not member:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), seconds, compared
    return np.concatenate(member), np.concatenate(match), np.concatenate(sim), seconds, compared


def _group_ids(column: pa.ChunkedArray) -> np.ndarray:
    values = column.to_pylist()
    ids: dict[str, int] = {}
    return np.array([-1 if v is None else ids.setdefault(v, len(ids)) for v in values], dtype=np.int64)


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


def _write_manifest(output: str, cfg: DedupConfig, run_digest: str, shards, method_info: dict, result: DedupResult,
                    started: float) -> None:
    run = run_manifest.read_run_json(output) or {}
    manifest = {
        "humanverse_version": humanverse.__version__,
        "started_at": started,
        "finished_at": time.time(),
        "run": {"config_digest": run.get("config_digest"), "input_digest": run.get("input_digest"),
                "sidecars_digest": run_digest},
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
