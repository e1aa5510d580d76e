"""IoU of one xyxy box against many, for non-max suppression and de-duplication inside model code (the
accuracy harness has its own matrix form for scoring; models never import the harness)."""

from __future__ import annotations

import numpy as np


def iou_one_to_many(a, b) -> np.ndarray:
    """IoU of box a (4,) with each row of b (M x 4); degenerate boxes have zero area."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:2], b[:, :2])
    rb = np.minimum(a[2:], b[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    area = lambda x: np.prod(np.clip(x[..., 2:] - x[..., :2], 0, None), axis=-1)  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)
