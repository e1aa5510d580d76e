"""Synthetic CLIP-like embeddings with planted near-duplicate groups (real CLIP weights cannot run here).

Real image embeddings are not spread uniformly: photos of one kind share a direction (cosine ~0.5-0.7
between unrelated photos of a topic). So samples are drawn around topic centres, and each planted group is
one sample plus copies at a small angle from it (cosine ~0.98 to the source).
"""

from __future__ import annotations

import numpy as np


def planted_embeddings(n_background: int, n_groups: int, group_size: int, dim: int = 768, topics: int = 20,
                       copy_noise: float = 0.12, seed: int = 0) -> tuple[np.ndarray, list[list[int]]]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(topics, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)

    def around(c, spread):
        v = c + spread * rng.normal(size=(len(c), dim)) / np.sqrt(dim)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    x = around(centres[rng.integers(0, topics, n_background)], 1.0)
    groups, rows = [], [x]
    start = n_background
    for g in range(n_groups):
        src = x[rng.integers(0, n_background)][None]
        copies = around(np.repeat(src, group_size - 1, axis=0), copy_noise)
        rows.append(copies)
        groups.append([int(np.flatnonzero((x == src).all(axis=1))[0]), *range(start, start + group_size - 1)])
        start += group_size - 1
    return np.concatenate(rows).astype(np.float16), groups
