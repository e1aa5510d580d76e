"""Exact duplicates: pixel-identical images (sha256 of the decoded pixels) and the same normalised URL."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from humanverse.dedup.config import DedupConfig
from humanverse.dedup.marking import Matches, combine, groups_to_matches


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


def _group_ids(column: pa.ChunkedArray) -> np.ndarray:
    values = column.to_pylist()
    ids: dict[str, int] = {}
    return np.array([-1 if v is None else ids.setdefault(v, len(ids)) for v in values], dtype=np.int64)
