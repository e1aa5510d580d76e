"""Exact dedup's pixel key: equal digests AND equal pHashes, so a forged digest collision marks nothing."""

import numpy as np
import pyarrow as pa

from humanverse.dedup.config import DedupConfig
from humanverse.dedup.exact import exact_matches


def _table(digests, phashes):
    n = len(digests)
    return pa.table({"task_id": ["t0"] * n, "pixel_sha256": pa.nulls(n, pa.string()),
                     "pixel_xxh3_128": digests, "phash": phashes, "url_key": [f"u{i}" for i in range(n)]})


def test_equal_digest_and_phash_is_a_pixel_duplicate_of_the_better_ranked():
    table = _table(["d1", "d1", "d2", None], ["p1", "p1", "p2", "p1"])
    m = exact_matches(table, np.array([1, 0, 2, 3]), DedupConfig())
    assert m.matched.tolist() == [1, -1, -1, -1]
    assert m.detail[0] == "same pixel xxh3_128"


def test_a_digest_collision_with_another_look_is_not_a_duplicate():
    # The crafted image (row 0) ranks first and shares the photo's digest, but not its pHash.
    table = _table(["d1", "d1"], ["p_forged", "p_photo"])
    m = exact_matches(table, np.array([0, 1]), DedupConfig())
    assert m.n_marked == 0
