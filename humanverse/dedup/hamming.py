"""Near-duplicate 64-bit hashes by Hamming distance without comparing all pairs: multi-index hashing.

Split the 64 bits into `bands` disjoint bands. If two hashes differ in at most d bits, then by the pigeonhole
principle some band differs in at most r = d // bands bits (Norouzi et al., "Fast search in Hamming space
with multi-index hashing", CVPR 2012). So for every band we look up, in a table sorted by that band's value,
the query's band value XOR every mask of at most r bits, and verify each candidate's full distance. No
pair within distance d is missed; the work per query is bands x C(band_bits, <= r) lookups plus the
candidates they return (about n / 2**band_bits each for well-spread hashes).
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

HASH_BITS = 64


def popcount(x: np.ndarray) -> np.ndarray:
    return np.bitwise_count(x.astype(np.uint64, copy=False)).astype(np.int64)


def flip_masks(bits: int, radius: int) -> np.ndarray:
    """Every mask of `bits` bits with at most `radius` bits set (0 first)."""
    masks = [0]
    for r in range(1, radius + 1):
        masks += [sum(1 << b for b in combo) for combo in combinations(range(bits), r)]
    return np.array(masks, dtype=np.uint64)


def band_slices(bands: int) -> list[tuple[int, int]]:
    """(shift, width) of each band; widths differ by at most one bit."""
    widths = [HASH_BITS // bands + (1 if b < HASH_BITS % bands else 0) for b in range(bands)]
    shifts = np.cumsum([0, *widths[:-1]]).tolist()
    return list(zip(shifts, widths))


def band_pairs(index: np.ndarray, queries: np.ndarray, max_distance: int, band: int, bands: int = 4,
               chunk: int = 65536) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query position, index position, distance) of every pair within max_distance found through one band.

    One band's lookups are independent of the others', so a distributed pass runs one task per band; the
    union over all bands is complete (the module docstring says why). Self-pairs are not removed here.
    """
    shift, width = band_slices(bands)[band]
    radius = max_distance // bands
    band_mask = np.uint64((1 << width) - 1)
    index = index.astype(np.uint64, copy=False)
    queries = queries.astype(np.uint64, copy=False)
    values = (index >> np.uint64(shift)) & band_mask
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    masks = flip_masks(width, radius)
    out_q, out_i, out_d = [], [], []
    for start in range(0, len(queries), chunk):
        q = queries[start:start + chunk]
        q_values = (q >> np.uint64(shift)) & band_mask
        for mask in masks:
            probe = q_values ^ mask
            lo = np.searchsorted(sorted_values, probe, side="left")
            hi = np.searchsorted(sorted_values, probe, side="right")
            counts = hi - lo
            if not counts.any():
                continue
            qi = np.repeat(np.arange(len(q)), counts)
            offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
            ii = order[np.repeat(lo, counts) + offsets]
            dist = popcount(q[qi] ^ index[ii])
            keep = dist <= max_distance
            out_q.append(qi[keep] + start)
            out_i.append(ii[keep])
            out_d.append(dist[keep])
    if not out_q:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    return np.concatenate(out_q), np.concatenate(out_i), np.concatenate(out_d)


def near_pairs(index: np.ndarray, max_distance: int, queries: np.ndarray | None = None, bands: int = 4
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (query, index, distance) within max_distance, each pair once; with no queries, the index
    against itself without self-pairs. Single-process; the dedup pass spreads the bands over Ray."""
    q = index if queries is None else queries
    parts = [band_pairs(index, q, max_distance, b, bands) for b in range(bands)]
    return unique_pairs(*(np.concatenate(p) for p in zip(*parts)), drop_self=queries is None)


def unique_pairs(qi: np.ndarray, ii: np.ndarray, dist: np.ndarray, drop_self: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The same pair found through several bands, once; self-pairs dropped when asked."""
    keep = qi != ii if drop_self else np.ones(len(qi), dtype=bool)
    qi, ii, dist = qi[keep], ii[keep], dist[keep]
    if not len(qi):
        return qi, ii, dist
    _, first = np.unique(np.stack([qi, ii], axis=1), axis=0, return_index=True)
    return qi[first], ii[first], dist[first]
