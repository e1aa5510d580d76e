import numpy as np
import pytest

from humanverse.dedup.hamming import near_pairs, popcount


def _brute(codes, d, queries=None):
    q = codes if queries is None else queries
    dist = popcount(q[:, None] ^ codes[None, :])
    qi, ii = np.nonzero(dist <= d)
    keep = qi != ii if queries is None else np.ones(len(qi), bool)
    return set(zip(qi[keep].tolist(), ii[keep].tolist()))


@pytest.mark.parametrize("d,bands", [(0, 4), (3, 4), (8, 4), (10, 4), (10, 8), (12, 3)])
def test_multi_index_hashing_finds_exactly_the_pairs_all_pairs_would(d, bands):
    rng = np.random.default_rng(d * 10 + bands)
    codes = rng.integers(0, 2**63, size=400, dtype=np.uint64) * np.uint64(2) + rng.integers(0, 2, 400).astype(np.uint64)
    # plant near copies: flip 0..d+2 random bits of some codes (some just inside, some just outside d)
    planted = []
    for i in range(0, 400, 5):
        flips = rng.choice(64, size=rng.integers(0, d + 3), replace=False)
        planted.append(codes[i] ^ np.uint64(sum(1 << int(b) for b in flips)))
    codes = np.concatenate([codes, np.array(planted, dtype=np.uint64)])
    qi, ii, dist = near_pairs(codes, d, bands=bands)
    assert set(zip(qi.tolist(), ii.tolist())) == _brute(codes, d)
    assert (dist == popcount(codes[qi] ^ codes[ii])).all() and (dist <= d).all()
    queries = codes[::7] ^ np.uint64(1)
    qi, ii, _ = near_pairs(codes, d, queries=queries, bands=bands)
    assert set(zip(qi.tolist(), ii.tolist())) == _brute(codes, d, queries)
