import numpy as np

from humanverse.dedup.marking import best_better_neighbour, combine, groups_to_matches, resolve
from humanverse.dedup.ranking import keep_rank


def test_keep_rule_is_aesthetic_then_pixels_then_key():
    keys = ["c", "b", "a", "d"]
    rank = keep_rank(keys, np.array([5.0, 7.0, np.nan, 5.0]), np.array([100, 10, 999, 100]), np.array([100, 10, 999, 100]))
    # b has the best aesthetic; c and d tie on aesthetic and pixels -> key order; a has no score -> last
    assert rank.tolist() == [1, 0, 3, 2]


def test_groups_point_at_their_best_sample_and_singletons_are_kept():
    rank = np.array([3, 0, 2, 1, 4])
    m = groups_to_matches("exact", np.array([7, 7, 7, -1, 9]), rank, "same")
    assert m.matched.tolist() == [1, -1, 1, -1, -1]
    assert m.n_marked == 2


def test_semdedup_rule_chains_resolve_to_a_kept_sample():
    # pairs: 0~1, 1~2 (0 and 2 not similar); rank order 0 < 1 < 2: 1 dup of 0, 2 dup of 1 -> duplicate_of 0
    rank = np.array([0, 1, 2, 3])
    m = best_better_neighbour("perceptual", 4, np.array([1, 2]), np.array([0, 1]), np.array([0.9, 0.95]), rank)
    assert m.matched.tolist() == [-1, 0, 1, -1]
    assert resolve(m.matched).tolist() == [-1, 0, 0, -1]


def test_most_similar_better_neighbour_wins_and_direction_follows_rank():
    rank = np.array([2, 0, 1])  # sample 1 is best
    m = best_better_neighbour("p", 3, np.array([0, 0]), np.array([1, 2]), np.array([0.8, 0.9]), rank)
    assert m.matched.tolist() == [2, -1, -1] and m.score[0] == 0.9


def test_combine_prefers_the_first_method_and_keeps_every_mark():
    rank = np.arange(4)
    exact = groups_to_matches("exact", np.array([0, 0, -1, -1]), rank, "same")
    sem = best_better_neighbour("semantic", 4, np.array([1, 3]), np.array([0, 2]), np.array([0.99, 0.97]), rank)
    merged, method = combine([exact, sem])
    assert merged.matched.tolist() == [-1, 0, -1, 2]
    assert method.tolist() == ["", "exact", "", "semantic"]


def test_perceptual_groups_identical_codes_and_matches_all_pairs_marking():
    """Identical pHashes are looked up once per code; the marks equal the all-pairs SemDeDup rule."""
    import pyarrow as pa

    from humanverse.dedup.config import DedupConfig
    from humanverse.dedup.executor import LocalExecutor
    from humanverse.dedup.hamming import popcount
    from humanverse.dedup.perceptual import perceptual_matches

    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**62, size=30, dtype=np.uint64)
    codes = np.concatenate([base, base[:10], base[:10] ^ np.uint64(0b111), base[:5] ^ np.uint64(0xFFFF)])
    n = len(codes)
    hexes = [f"{int(c):016x}" for c in codes]
    table = pa.table({"phash": hexes, "phash_mirror": [f"{int(~c & np.uint64(2**64 - 1)):016x}" for c in codes]})
    rank = rng.permutation(n)
    cfg = DedupConfig.model_validate({"perceptual": {"max_distance": 6, "mirror": False}})
    found = perceptual_matches(LocalExecutor(), table, rank, cfg)
    dist = popcount(codes[:, None] ^ codes[None, :])
    expected = [bool(((dist[i] <= 6) & (rank < rank[i])).any()) for i in range(n)]
    assert (found.matched >= 0).tolist() == expected
    assert all(rank[found.matched[i]] < rank[i] for i in np.flatnonzero(found.matched >= 0))
