"""IoU of xyxy boxes: one implementation for model code (non-max suppression, de-duplication) and the accuracy
harness's scoring (accuracy/metrics.py imports it; models never import the harness)."""

from __future__ import annotations

import numpy as np


def box_iou(a, b) -> np.ndarray:
    """IoU matrix of xyxy boxes a (N x 4) and b (M x 4); degenerate boxes have zero area."""
    a = np.asarray(a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 4)
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area = lambda x: np.prod(np.clip(x[:, 2:] - x[:, :2], 0, None), axis=-1)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-9)


def iou_one_to_many(a, b) -> np.ndarray:
    """IoU of box a (4,) with each row of b (M x 4)."""
    return box_iou(a, b)[0]
