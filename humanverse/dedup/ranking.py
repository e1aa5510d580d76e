"""Which copy of a duplicate group is kept: the stated rule, the same for every method.

Highest aesthetic score first (a missing score ranks last), then the most pixels (width x height), then
the smallest key (stable across reruns). A lower rank is better; rank 0 is the best sample of the run.
"""

from __future__ import annotations

import numpy as np

RULE = "highest aesthetic, then most pixels (width x height), then smallest key"


def keep_rank(keys: list[str] | np.ndarray, aesthetic: np.ndarray, width: np.ndarray, height: np.ndarray
              ) -> np.ndarray:
    """rank[i] = position of sample i in keep order."""
    aes = np.asarray(aesthetic, dtype=np.float64)
    aes = np.where(np.isnan(aes), -np.inf, aes)
    pixels = np.nan_to_num(np.asarray(width, dtype=np.float64)) * np.nan_to_num(np.asarray(height, dtype=np.float64))
    key_order = np.argsort(np.asarray(keys, dtype=object), kind="stable")
    key_pos = np.empty(len(key_order), dtype=np.int64)
    key_pos[key_order] = np.arange(len(key_order))
    order = np.lexsort((key_pos, -pixels, -aes))  # last key is the primary one
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return rank
