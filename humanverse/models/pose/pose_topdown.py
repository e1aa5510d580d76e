"""One call poses every person of many images: crop all boxes, run the backend in chunks, map back.

Every backend sees the same crops (pose_decode's box -> crop geometry). A heatmap backend (mmpose, onnx) is a
function from normalised crops (N x 3 x H x W float32) to heatmaps (N x K x h x w), so those two share
batching, flip test and decoding; a keypoint backend (mediapipe) is a function from uint8 crops to crop-pixel
keypoints, mapped back to the image by the same inverse as the heatmaps.
"""

from __future__ import annotations

from typing import Callable, Literal

import numpy as np

from humanverse.models.pose.pose_decode import (
    COCO_WHOLEBODY_FLIP_INDICES,
    box_center_scale,
    crop_persons,
    crop_to_image,
    decode_heatmaps,
    flip_back,
    normalize_crops,
)

HeatmapFn = Callable[[np.ndarray], np.ndarray]
KeypointFn = Callable[[np.ndarray], np.ndarray]
"""uint8 RGB crops N x H x W x 3 -> N x K x 3 [x, y, score] in crop pixels."""


def crop_all(
    images: list[np.ndarray],
    boxes: list[np.ndarray],
    input_size: tuple[int, int],
    padding: float,
    crop: Callable = crop_persons,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Centers, scales and uint8 crops of every box of every image, and which image each crop belongs to."""
    centers, scales, crops, owner = [], [], [], []
    for i, (image, b) in enumerate(zip(images, boxes)):
        b = np.asarray(b, dtype=np.float32).reshape(-1, 4)
        if len(b) == 0:
            continue
        c, s = box_center_scale(b, padding, input_size)
        centers.append(c)
        scales.append(s)
        crops.append(crop(image, c, s, input_size))
        owner += [i] * len(b)
    if not owner:
        empty = np.zeros((0, 2), dtype=np.float32)
        return empty, empty, np.zeros((0, *input_size, 3), dtype=np.uint8), np.zeros(0, dtype=int)
    return np.concatenate(centers), np.concatenate(scales), np.concatenate(crops), np.asarray(owner)


def split_by_image(kps: np.ndarray, owner: np.ndarray, n_images: int) -> list[np.ndarray]:
    """Per image: its persons' keypoints (persons x K x 3); an image without boxes gets a 0 x 0 x 3 array."""
    results = [np.zeros((0, 0, 3), dtype=np.float32) for _ in range(n_images)]
    for i in range(n_images):
        sel = owner == i
        if sel.any():
            results[i] = kps[sel]
    return results


def estimate_poses_from_crops(
    images: list[np.ndarray],
    boxes: list[np.ndarray],
    keypoint_fn: KeypointFn,
    *,
    input_size: tuple[int, int],
    padding: float = 1.25,
) -> list[np.ndarray]:
    """Like estimate_poses, for a backend that returns crop-pixel keypoints itself (one person per crop).
    A point the backend did not give (score 0) is [0, 0, 0], as in COCO, not the crop's corner."""
    centers, scales, crops, owner = crop_all(images, boxes, input_size, padding)
    if len(owner) == 0:
        return split_by_image(np.zeros((0, 0, 3), dtype=np.float32), owner, len(images))
    kps = np.asarray(keypoint_fn(crops), dtype=np.float32)
    kps[..., :2] = crop_to_image(kps[..., :2], centers, scales, input_size)
    kps[kps[..., 2] <= 0] = 0.0
    return split_by_image(kps, owner, len(images))


def estimate_poses(
    images: list[np.ndarray],
    boxes: list[np.ndarray],
    heatmap_fn: HeatmapFn,
    *,
    input_size: tuple[int, int] = (256, 192),
    padding: float = 1.25,
    flip_test: bool = False,
    batch_size: int = 16,
    codec: Literal["msra", "udp"] = "msra",
    flip_indices=COCO_WHOLEBODY_FLIP_INDICES,
) -> list[np.ndarray]:
    """Keypoints per image: a list of (persons x K x 3) arrays [x, y, score] in original-image pixels.

    Crops of all images are pooled so that a model batch can hold persons of several images; with flip test
    each chunk carries its mirrored crops in the same forward call. codec "msra" is ViTPose's geometry
    (pose_decode), "udp" Sapiens2's (pose_udp.py); flip_indices is the model's left/right swap.
    """
    from humanverse.models.pose.pose_udp import crop_persons_udp, decode_heatmaps_udp

    udp = codec == "udp"
    crop = crop_persons_udp if udp else crop_persons
    centers_all, scales_all, crops, owner = crop_all(images, boxes, input_size, padding, crop)
    if len(owner) == 0:
        return split_by_image(np.zeros((0, 0, 3), dtype=np.float32), owner, len(images))
    x = normalize_crops(crops)
    heatmaps = []
    for start in range(0, len(x), max(1, batch_size)):
        chunk = x[start : start + batch_size]
        if flip_test:
            both = heatmap_fn(np.concatenate([chunk, np.ascontiguousarray(chunk[..., ::-1])]))
            plain, mirrored = both[: len(chunk)], both[len(chunk) :]
            heatmaps.append((plain + flip_back(mirrored, flip_indices, shift=not udp)) * 0.5)
        else:
            heatmaps.append(heatmap_fn(chunk))
    if udp:
        xy, scores = decode_heatmaps_udp(np.concatenate(heatmaps), centers_all, scales_all)
    else:
        xy, scores = decode_heatmaps(np.concatenate(heatmaps), centers_all, scales_all, input_size)
    kps = np.concatenate([xy, scores[..., None]], axis=-1)
    return split_by_image(kps, owner, len(images))
