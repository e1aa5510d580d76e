"""Rotated square regions of a picture, as MediaPipe's landmark models take them: the affine map from a
model's square input back to the picture, and the warp that cuts the region out (zeros outside the picture).

Shared by the BlazePose person detector's confirmation step and the hand landmark model."""

from __future__ import annotations

import math

import cv2
import numpy as np


def roi_transform(center, side: float, rotation: float, out: int) -> np.ndarray:
    """2 x 3 affine matrix taking crop pixels (out x out) to image pixels for a rotated square region.

    rotation (radians) turns the crop's axes into the picture's: 0 is an upright, axis-aligned square."""
    c, s = math.cos(rotation), math.sin(rotation)
    k = side / out
    return np.array([[c * k, -s * k, center[0] - (c - s) * side / 2],
                     [s * k, c * k, center[1] - (s + c) * side / 2]], dtype=np.float64)


def warp_square(rgb: np.ndarray, center, side: float, rotation: float, out: int) -> tuple[np.ndarray, np.ndarray]:
    """(out x out crop of the region, its crop -> image matrix)."""
    m = roi_transform(center, side, rotation, out)
    crop = cv2.warpAffine(rgb, m, (out, out), flags=cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT)
    return crop, m


def to_image(points: np.ndarray, m: np.ndarray) -> np.ndarray:
    """N x 2 crop pixels -> image pixels under the crop -> image matrix m."""
    return points @ m[:, :2].T + m[:, 2]
