"""One random-resized crop applied identically to an image, its dense maps and its keypoints.

The pose, depth and normal conditions are only useful if they stay pixel-aligned with the image, so the crop
box is drawn once and every member of a sample goes through the same box and the same resize.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class CropBox:
    """Whole pixels, so the image can be sliced and then resized with area filtering when shrinking."""

    x0: int
    y0: int
    width: int
    height: int


def random_crop_box(
    width: int, height: int, scale: tuple[float, float], ratio: tuple[float, float], rng: random.Random
) -> CropBox:
    """torchvision's RandomResizedCrop box sampling, falling back to the largest centred box of the ratio."""
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target_area = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = math.sqrt(target_area * aspect)
        h = math.sqrt(target_area / aspect)
        w, h = round(w), round(h)
        if 0 < w <= width and 0 < h <= height:
            return CropBox(rng.randint(0, width - w), rng.randint(0, height - h), w, h)
    aspect = min(max(width / height, ratio[0]), ratio[1])
    w, h = (round(height * aspect), height) if width / height > aspect else (width, round(width / aspect))
    return CropBox((width - w) // 2, (height - h) // 2, max(1, w), max(1, h))


def centre_square_box(width: int, height: int) -> CropBox:
    """The largest centred square: how a non-square pose/depth/normal input is framed for a square sampler."""
    side = min(width, height)
    return CropBox((width - side) // 2, (height - side) // 2, side, side)


def crop_resize(array: np.ndarray, box: CropBox, size: int) -> np.ndarray:
    """Crop box out of an H x W (x C) array and resize it to size x size (area filter when shrinking)."""
    region = np.ascontiguousarray(array[box.y0 : box.y0 + box.height, box.x0 : box.x0 + box.width])
    shrinking = box.width > size or box.height > size
    return cv2.resize(region, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def crop_keypoints(keypoints: np.ndarray, box: CropBox, size: int) -> np.ndarray:
    """Map N x [x, y, score] keypoints into the crop's size x size frame; scores are kept."""
    out = np.array(keypoints, dtype=np.float32, copy=True)
    out[:, 0] = (out[:, 0] - box.x0) * (size / box.width)
    out[:, 1] = (out[:, 1] - box.y0) * (size / box.height)
    return out
