"""What the dedup pass reads per shard: the sidecar (never the tar, unless fingerprints must be backfilled),
its sha256 for the manifest, and the small per-sample features of its ok rows.

Features are cached under OUT/dedup/features/{task_id}.parquet with the sidecar's sha256, so a rerun (or a
resume after a kill) reuses them instead of decoding images again; a changed sidecar invalidates its entry.

The run may come from others: a task id names a file only after check_task_id (it comes from a checked
marker name, shards/funnel.load_stats), and ok rows whose key fails check_key take no part.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass

import fsspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from humanverse.dedup import backfill
from humanverse.dedup.fingerprint import PHASH_FIELDS
from humanverse.dedup.urls import normalize_url
from humanverse.imaging.pixel_digest import COLUMNS
from humanverse.shards import atomic
from humanverse.shards.dedup_marks import dedup_dir
from humanverse.shards.untrusted import BadSample, read_sidecar
from humanverse.sources.keys import check_task_id, is_safe_key

FEATURE_SCHEMA = pa.schema([
    ("key", pa.string()), ("task_id", pa.string()), ("url", pa.string()), ("url_key", pa.string()),
    *((name, pa.string()) for name in COLUMNS), ("phash", pa.string()), ("phash_mirror", pa.string()),
    ("fingerprint_source", pa.string()), ("aesthetic", pa.float64()), ("width", pa.int32()),
    ("height", pa.int32()),
])
EMBEDDING_COLUMN = "clip_embedding"
log = logging.getLogger(__name__)


@dataclass
class ShardFeatures:
    task_id: str
    sidecar_sha256: str
    table: pa.Table  # FEATURE_SCHEMA, ok rows in sidecar order
    backfilled: int  # rows whose fingerprints came from the tar in this call
    has_embeddings: bool


def features_path(output: str, task_id: str) -> str:
    return atomic.join(dedup_dir(output), "features", f"{check_task_id(task_id)}.parquet")


def read_shard(output: str, task_id: str, need_fingerprints: bool, need_embeddings: bool, pixel_digest: str
               ) -> tuple[ShardFeatures, np.ndarray | None]:
    """(features, embeddings of the same rows as float16 n x d, or None when not needed or absent).
    pixel_digest: the run's definition, what a backfill computes (the sidecar's own digests are read as
    they are, under their definition's column)."""
    data = _read_bytes(atomic.join(output, "shards", f"{check_task_id(task_id)}.parquet"))
    digest = hashlib.sha256(data).hexdigest()
    try:
        sidecar = read_sidecar(data)
    except BadSample as bad:  # a sidecar that breaks the format: its rows take no part (logged)
        log.warning("%s: sidecar left out of dedup (%s)", task_id, bad)
        return ShardFeatures(task_id, digest, FEATURE_SCHEMA.empty_table(), 0, False), None
    ok = sidecar.filter(pc.equal(sidecar.column("status"), "ok"))
    ok = ok.filter(pa.array([is_safe_key(k) for k in ok.column("key").to_pylist()], pa.bool_()))
    has_embeddings = EMBEDDING_COLUMN in ok.column_names and ok.num_rows > 0 and ok.column(EMBEDDING_COLUMN).null_count < ok.num_rows
    embeddings = _embeddings(ok) if need_embeddings and has_embeddings else None

    cached = _cached(output, task_id, digest, need_fingerprints, pixel_digest)
    if cached is not None:
        return ShardFeatures(task_id, digest, cached, 0, has_embeddings), embeddings
    table, backfilled = _features(output, task_id, ok, need_fingerprints, pixel_digest)
    buf = io.BytesIO()
    meta = {"sidecar_sha256": digest, "fingerprints_checked": str(int(need_fingerprints)), "pixel_digest": pixel_digest}
    pq.write_table(table.replace_schema_metadata(meta), buf)
    atomic.write_bytes(features_path(output, task_id), buf.getvalue())
    return ShardFeatures(task_id, digest, table, backfilled, has_embeddings), embeddings


def _features(output: str, task_id: str, ok: pa.Table, need_fingerprints: bool, pixel_digest: str
              ) -> tuple[pa.Table, int]:
    n = ok.num_rows
    col = lambda name: ok.column(name).to_pylist() if name in ok.column_names else [None] * n  # noqa: E731
    keys, urls = col("key"), col("url")
    prints = {name: col(name) for name in (*COLUMNS, *PHASH_FIELDS)}
    source = ["curate" if prints["phash"][i] and any(prints[c][i] for c in COLUMNS) else None for i in range(n)]
    missing = {keys[i] for i in range(n) if source[i] is None}
    backfilled = 0
    if need_fingerprints and missing:
        computed = backfill.fingerprints_from_tar(atomic.join(output, "shards", f"{task_id}.tar"), missing,
                                                  pixel_digest)
        for i, key in enumerate(keys):
            if key in computed:
                for name in (*COLUMNS, *PHASH_FIELDS):  # the row's digest is the run's definition only
                    prints[name][i] = computed[key].get(name)
                source[i] = "dedup"
                backfilled += 1
    table = pa.Table.from_pydict({
        "key": keys, "task_id": [task_id] * n, "url": urls, "url_key": [normalize_url(u) for u in urls],
        **prints, "fingerprint_source": source, "aesthetic": col("aesthetic"), "width": col("width"),
        "height": col("height"),
    }, schema=FEATURE_SCHEMA)
    return table, backfilled


def _cached(output: str, task_id: str, digest: str, need_fingerprints: bool, pixel_digest: str) -> pa.Table | None:
    fs, path = fsspec.core.url_to_fs(features_path(output, task_id))
    if not fs.exists(path):
        return None
    with fs.open(path, "rb") as f:
        table = pq.read_table(f)
    meta = table.schema.metadata or {}
    if meta.get(b"sidecar_sha256", b"").decode() != digest or meta.get(b"pixel_digest", b"").decode() != pixel_digest:
        return None  # (entries written before definitions were recorded have none: read again, once)
    if need_fingerprints and meta.get(b"fingerprints_checked") != b"1":
        return None
    return table.replace_schema_metadata(None).cast(FEATURE_SCHEMA)


def _embeddings(ok: pa.Table) -> np.ndarray:
    column = ok.column(EMBEDDING_COLUMN).combine_chunks()
    dim = max((len(v) for v in column.to_pylist()[:1] if v is not None), default=0)
    out = np.zeros((ok.num_rows, dim), dtype=np.float16)
    valid = np.flatnonzero(~np.asarray(column.is_null().to_numpy(zero_copy_only=False)))
    if len(valid) and dim:
        flat = column.filter(column.is_valid()).flatten().to_numpy(zero_copy_only=False)
        out[valid] = np.asarray(flat, dtype=np.float16).reshape(len(valid), dim)
    return out


def _read_bytes(url: str) -> bytes:
    with fsspec.open(url, "rb") as f:
        return f.read()
