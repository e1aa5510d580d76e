"""One call poses every person of many images: crop all boxes, run the backend in chunks, decode.

The backend is any function from normalised crops (N x 3 x H x W float32) to heatmaps (N x K x h x w), so
the mmpose and onnx backends share batching, flip test and decoding, and differ only in how they compute.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from humanverse.models.pose.pose_decode import (
    box_center_scale,
    crop_persons,
    decode_heatmaps,
    flip_back,
    normalize_crops,
)

HeatmapFn = Callable[[np.ndarray], np.ndarray]


def estimate_poses(
    images: list[np.ndarray],
    boxes: list[np.ndarray],
    heatmap_fn: HeatmapFn,
    *,
    input_size: tuple[int, int] = (256, 192),
    padding: float = 1.25,
    flip_test: bool = False,
    batch_size: int = 16,
) -> list[np.ndarray]:
    """Keypoints per image: a list of (persons x K x 3) arrays [x, y, score] in original-image pixels.

    Crops of all images are pooled so that a model batch can hold persons of several images; with flip test
    each chunk carries its mirrored crops in the same forward call.
    """
    centers, scales, crops, owner = [], [], [], []
    for i, (image, b) in enumerate(zip(images, boxes)):
        b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
        if len(b) == 0:
            continue
        c, s = box_center_scale(b, padding, input_size)
        centers.append(c)
        scales.append(s)
        crops.append(crop_persons(image, c, s, input_size))
        owner += [i] * len(b)
    results = [np.zeros((0, 0, 3), dtype=np.float32) for _ in images]
    if not owner:
        return results
    centers_all, scales_all = np.concatenate(centers), np.concatenate(scales)
    x = normalize_crops(np.concatenate(crops))
    heatmaps = []
    for start in range(0, len(x), max(1, batch_size)):
        chunk = x[start : start + batch_size]
        if flip_test:
            both = heatmap_fn(np.concatenate([chunk, np.ascontiguousarray(chunk[..., ::-1])]))
            plain, mirrored = both[: len(chunk)], both[len(chunk) :]
            heatmaps.append((plain + flip_back(mirrored)) * 0.5)
        else:
            heatmaps.append(heatmap_fn(chunk))
    xy, scores = decode_heatmaps(np.concatenate(heatmaps), centers_all, scales_all, input_size)
    kps = np.concatenate([xy, scores[..., None]], axis=-1)
    owner_arr = np.asarray(owner)
    for i in range(len(images)):
        sel = owner_arr == i
        if sel.any():
            results[i] = kps[sel]
    return results
