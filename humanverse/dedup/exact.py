"""Exact duplicates: pixel-identical images (the pixel digest of the decoded pixels) and the same normalised URL.

A run's shards carry one pixel digest definition (imaging/pixel_digest.py: the run's, recorded in run.json),
so the digests compared are all of one definition. An output assembled from runs of different definitions
would compare digests that can never be equal, silently missing every duplicate across them: it is refused
(MixedPixelDigests) instead, naming which shards carry which.

A pixel match also needs equal pHashes (always true of pixel-identical images, which hash alike). The digest of
new runs, xxh3_128, is not collision resistant: someone who knew a photo's pixels could craft another image
with its digest and, ranking higher, get the photo marked. With the pHash in the key such an image must also
look like the photo at pHash's scale, and perceptual dedup already marks a look-alike: a forged collision
gains nothing."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from humanverse.dedup.config import DedupConfig
from humanverse.dedup.marking import Matches, combine, groups_to_matches
from humanverse.imaging.pixel_digest import COLUMNS


class MixedPixelDigests(ValueError):
    pass


def exact_matches(table: pa.Table, rank: np.ndarray, cfg: DedupConfig) -> Matches:
    """Pixel-identical images first, then the same normalised URL; both score 1."""
    found = []
    if cfg.exact.pixels:
        column = pixel_digest_column(table)
        pairs = zip(table.column(column).to_pylist(), table.column("phash").to_pylist())
        keys = [None if digest is None else (digest, phash) for digest, phash in pairs]
        found.append(groups_to_matches("exact", _group_ids(keys), rank, f"same pixel {column.removeprefix('pixel_')}"))
    if cfg.exact.url:
        found.append(groups_to_matches("exact", _group_ids(table.column("url_key").to_pylist()), rank,
                                       "same normalised url"))
    if not found:
        return Matches.none("exact", len(rank))
    merged, _ = combine(found)
    merged.method = "exact"
    return merged


def pixel_digest_column(table: pa.Table) -> str:
    """The one digest column that holds values (the first when none does); MixedPixelDigests when several do."""
    filled = [name for name in COLUMNS if name in table.column_names and table.column(name).null_count < table.num_rows]
    if len(filled) > 1:
        where = "; ".join(f"{name} in {_tasks(table, name)}" for name in filled)
        raise MixedPixelDigests(
            f"the shards mix pixel digest definitions ({where}): their digests can never be equal, so exact dedup "
            "would miss every duplicate across them. One run writes one definition (run.json's pixel_digest); this "
            "output holds shards of several runs. Dedup each run's output on its own, or leave the pixel digest "
            "out with `--set exact.pixels=false` (perceptual dedup still finds pixel-identical copies).")
    return filled[0] if filled else COLUMNS[0]


def _tasks(table: pa.Table, column: str, shown: int = 3) -> str:
    tasks = sorted(set(table.filter(pc.is_valid(table.column(column))).column("task_id").to_pylist()))
    more = f" and {len(tasks) - shown} more" if len(tasks) > shown else ""
    return f"{len(tasks)} shard(s): " + ", ".join(tasks[:shown]) + more


def _group_ids(values: list) -> np.ndarray:
    """One id per distinct value, -1 for None (a row in no group)."""
    ids: dict = {}
    return np.array([-1 if v is None else ids.setdefault(v, len(ids)) for v in values], dtype=np.int64)
