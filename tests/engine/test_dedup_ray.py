"""The dedup pass's Ray executor gives the same marks as the in-process one (the functions are the same;
only where they run differs)."""

import numpy as np

from humanverse.dedup.config import DedupConfig
from humanverse.dedup.executor import LocalExecutor
from humanverse.dedup.semantic import semantic_matches
from tests.dedup.synthetic import planted_embeddings


def test_ray_executor_marks_what_the_local_executor_marks(ray_local):
    from humanverse.engine.dedup_ray import RayExecutor

    x, groups = planted_embeddings(400, 6, 2, dim=64, topics=4, seed=5)
    n = len(x)
    rank = np.random.default_rng(1).permutation(n)
    blocks = [(x[b], b[0], len(b)) for b in np.array_split(np.arange(n), 3)]
    cfg = DedupConfig.model_validate({"semantic": {"clusters": 3, "partitions": 2}})
    local = semantic_matches(LocalExecutor(), blocks, n, rank, cfg)
    ray_exec = RayExecutor()
    on_ray = semantic_matches(ray_exec, [(ray_exec.put(b), start, rows) for b, start, rows in blocks], n, rank, cfg)
    assert local.n_marked >= 5
    np.testing.assert_array_equal(on_ray.matched, local.matched)
    assert ray_exec.parallelism >= 1
