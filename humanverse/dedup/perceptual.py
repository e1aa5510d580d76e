"""Perceptual near-duplicates: pHash (and mirrored pHash) within a Hamming distance, through multi-index
hashing (humanverse/dedup/hamming.py), one task per band."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from humanverse.dedup import hamming
from humanverse.dedup.config import DedupConfig
from humanverse.dedup.executor import Executor
from humanverse.dedup.fingerprint import PHASH_BITS, hex_to_u64
from humanverse.dedup.marking import Matches, best_better_neighbour, combine, groups_to_matches


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
