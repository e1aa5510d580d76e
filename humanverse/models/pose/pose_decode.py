"""Top-down geometry shared by every pose backend: person box -> crop, heatmaps -> original-image keypoints.

Both backends (mmpose, onnx) only turn normalised crops into heatmaps; everything that maps between the
image and the heatmap lives here, so the two cannot drift apart. The conventions are exactly mmpose 1.x's
`MSRAHeatmap` codec with `TopdownAffine(use_udp=False)` and flip test with `shift_heatmap=True`, because the
published ViTPose whole-body checkpoints were trained with those (ViTPose repo, coco-wholebody configs: plain
TopDownAffine, post_process='default', shift_heatmap=True). Under them a crop pixel index i maps to the image
coordinate  cx - sw/2 + i * sw / crop_w  and a heatmap index u to  cx - sw/2 + u * sw / heatmap_w.
"""

from __future__ import annotations

import cv2
import numpy as np

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)

# COCO-WholeBody 133: which keypoint each one becomes under a horizontal flip (left/right swap).
# Equal to mmpose's metainfo `configs/_base_/datasets/coco_wholebody.py` flip_indices (checked by a test),
# kept here so the onnx backend needs no mmpose.
COCO_WHOLEBODY_FLIP_INDICES = (
    [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]  # body 0-16
    + [20, 21, 22, 17, 18, 19]  # feet 17-22
    + list(range(39, 22, -1))  # face contour 23-39
    + list(range(49, 39, -1))  # eyebrows 40-49
    + [50, 51, 52, 53, 58, 57, 56, 55, 54]  # nose 50-58
    + [68, 67, 66, 65, 70, 69, 62, 61, 60, 59, 64, 63]  # eyes 59-70
    + [77, 76, 75, 74, 73, 72, 71, 82, 81, 80, 79, 78, 87, 86, 85, 84, 83, 90, 89, 88]  # mouth 71-90
    + list(range(112, 133))  # left hand 91-111 <-> right hand
    + list(range(91, 112))
)
NUM_KEYPOINTS = 133


def box_center_scale(boxes: np.ndarray, padding: float, input_size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Center and (w, h) scale of each xyxy box, padded, then widened to the crop's aspect ratio.

    input_size is (height, width) of the model input. Mirrors mmpose's bbox_xyxy2cs + TopdownAffine's
    aspect fix, so a person is never squashed.
    """
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    center = (boxes[:, :2] + boxes[:, 2:]) * 0.5
    scale = (boxes[:, 2:] - boxes[:, :2]) * padding
    h_in, w_in = input_size
    aspect = w_in / h_in
    w, h = scale[:, 0].copy(), scale[:, 1].copy()
    wider = w > h * aspect
    scale[:, 0] = np.where(wider, w, h * aspect)
    scale[:, 1] = np.where(wider, w / aspect, h)
    return center, scale


def crop_matrix(center: np.ndarray, scale: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """The 2x3 affine taking image pixels to crop pixels (mmpose get_warp_matrix, rotation 0)."""
    h_in, w_in = input_size
    s = w_in / float(scale[0])
    return np.array(
        [[s, 0.0, w_in * 0.5 - s * float(center[0])], [0.0, s, h_in * 0.5 - s * float(center[1])]], dtype=np.float32
    )


def crop_persons(image: np.ndarray, centers: np.ndarray, scales: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """N x H x W x 3 uint8 crops of one RGB image, bilinear, black outside the image (as mmpose)."""
    h_in, w_in = input_size
    out = np.zeros((len(centers), h_in, w_in, 3), dtype=np.uint8)
    for i, (c, s) in enumerate(zip(centers, scales)):
        out[i] = cv2.warpAffine(image, crop_matrix(c, s, input_size), (w_in, h_in), flags=cv2.INTER_LINEAR)
    return out


def normalize_crops(crops: np.ndarray) -> np.ndarray:
    """uint8 N x H x W x 3 RGB -> float32 N x 3 x H x W, ImageNet mean/std (the ViTPose training transform)."""
    x = crops.astype(np.float32) / 255.0
    x = (x - IMAGENET_MEAN) / IMAGENET_STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def flip_back(flipped_heatmaps: np.ndarray, flip_indices=COCO_WHOLEBODY_FLIP_INDICES, shift: bool = True) -> np.ndarray:
    """Heatmaps of horizontally flipped crops -> heatmaps in the unflipped frame (mmpose flip_heatmaps).

    Swaps left/right channels, mirrors the width axis and, with shift, moves everything one heatmap pixel
    right: without UDP a mirrored heatmap is off by one pixel, which is what shift_heatmap corrects.
    """
    hm = flipped_heatmaps[:, list(flip_indices)][..., ::-1].copy()
    if shift:
        hm[..., 1:] = hm[..., :-1].copy()
    return hm


def heatmap_maxima(heatmaps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Argmax (x, y) and value per channel of N x K x H x W heatmaps; location -1 where the max is <= 0."""
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n, k, -1)
    idx = flat.argmax(axis=-1)
    vals = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
    locs = np.stack([idx % w, idx // w], axis=-1).astype(np.float32)
    locs[vals <= 0] = -1
    return locs, vals.astype(np.float32)


def refine_quarter_offset(locs: np.ndarray, heatmaps: np.ndarray) -> np.ndarray:
    """mmpose's default post-processing: move a quarter pixel towards the higher neighbour (refine_keypoints)."""
    n, k, h, w = heatmaps.shape
    x = locs[..., 0].astype(int)
    y = locs[..., 1].astype(int)
    ni, ki = np.meshgrid(np.arange(n), np.arange(k), indexing="ij")
    ok_x = (x > 1) & (x < w - 1) & (y > 0) & (y < h)
    ok_y = (y > 1) & (y < h - 1) & (x > 0) & (x < w)
    xc, yc = np.clip(x, 1, w - 2), np.clip(y, 1, h - 2)
    xs, ys = np.clip(x, 0, w - 1), np.clip(y, 0, h - 1)
    dx = np.where(ok_x, heatmaps[ni, ki, ys, xc + 1] - heatmaps[ni, ki, ys, xc - 1], 0.0)
    dy = np.where(ok_y, heatmaps[ni, ki, yc + 1, xs] - heatmaps[ni, ki, yc - 1, xs], 0.0)
    return locs + np.stack([np.sign(dx), np.sign(dy)], axis=-1).astype(np.float32) * 0.25


def decode_heatmaps(
    heatmaps: np.ndarray, centers: np.ndarray, scales: np.ndarray, input_size: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """N x K x h x w heatmaps of N crops -> (N x K x 2 image-pixel keypoints, N x K scores)."""
    heatmaps = np.asarray(heatmaps, dtype=np.float32)
    _, _, h_hm, w_hm = heatmaps.shape
    h_in, w_in = input_size
    locs, scores = heatmap_maxima(heatmaps)
    locs = refine_quarter_offset(locs, heatmaps)
    crop_xy = locs * np.array([w_in / w_hm, h_in / h_hm], dtype=np.float32)
    image_xy = crop_xy / np.array([w_in, h_in], dtype=np.float32) * scales[:, None, :] + (
        centers[:, None, :] - 0.5 * scales[:, None, :]
    )
    return image_xy, scores
