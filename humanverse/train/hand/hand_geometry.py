"""Square hand crops, the 21-point hand skeleton drawn in them, and pasting a crop back where it came from.

One crop convention serves training (a hand out of a shard image), sampling (a hand box on the body canvas)
and placement (the generated hand back onto that canvas), so a keypoint, its crop and its placement agree to
the pixel (joint_crop.py's pixel-centre convention). Boxes may reach past the image border: the image is
padded with zeros rather than the box shrunk, so the crop stays square and undistorted.

The skeleton is the whole-body renderer's (pose_render.py) hand part: the 21 points go into COCO-WholeBody's
left-hand slots and the hand root also into the body wrist, from which mmpose draws each finger, so a hand
looks exactly as it does in the full-body pose map the body stage is conditioned on.
"""

from __future__ import annotations

import cv2
import numpy as np

from humanverse.train.common.joint_crop import CropBox, crop_keypoints, crop_resize
from humanverse.train.common.pose_render import NUM_KEYPOINTS, render_pose
from humanverse.train.hand.hand_data import HAND_KEYPOINTS, WHOLEBODY_HANDS

BODY_WRIST = {"left": 9, "right": 10}


def as_wholebody(keypoints: np.ndarray, side: str = "left") -> np.ndarray:
    """133 x 3 with only this hand (and its wrist as the body wrist) set; every other point has score 0."""
    out = np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
    out[WHOLEBODY_HANDS[side]] = keypoints
    out[BODY_WRIST[side]] = keypoints[0]
    return out


def render_hand(keypoints: np.ndarray, size: int, score_threshold: float) -> np.ndarray:
    """size x size x 3 uint8: the hand skeleton of 21 x [x, y, score] keypoints given in that frame."""
    return render_pose([as_wholebody(keypoints)], size, size, score_threshold=score_threshold)


def square_box(x0: float, y0: float, x1: float, y1: float) -> CropBox:
    """The whole-pixel square around a box: same centre, side = the box's longer side (at least 1)."""
    side = max(1, int(round(max(x1 - x0, y1 - y0))))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return CropBox(int(round(cx - side / 2)), int(round(cy - side / 2)), side, side)


def box_from_keypoints(keypoints: np.ndarray, score_threshold: float, margin: float) -> CropBox | None:
    """Square box around the visible keypoints, widened by `margin` x their extent on each side; None when
    fewer than two are visible. Sampling uses it for a pose that has no contract `hands` entry."""
    points = keypoints[keypoints[:, 2] >= score_threshold, :2]
    if len(points) < 2:
        return None
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    side = max(x1 - x0, y1 - y0, 1.0) * (1 + 2 * margin)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return square_box(cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)


def crop_padded(array: np.ndarray, box: CropBox, size: int) -> np.ndarray:
    """crop_resize for a box that may reach outside the image (zeros there)."""
    height, width = array.shape[:2]
    left, top = max(0, -box.x0), max(0, -box.y0)
    right, bottom = max(0, box.x0 + box.width - width), max(0, box.y0 + box.height - height)
    if left or top or right or bottom:
        pad = [(top, bottom), (left, right)] + [(0, 0)] * (array.ndim - 2)
        array = np.pad(array, pad)
        box = CropBox(box.x0 + left, box.y0 + top, box.width, box.height)
    return crop_resize(array, box, size)


def crop_hand_keypoints(keypoints: np.ndarray, box: CropBox, size: int) -> np.ndarray:
    if keypoints.shape != (HAND_KEYPOINTS, 3):
        raise ValueError(f"expected {HAND_KEYPOINTS} x 3 hand keypoints, got {keypoints.shape}")
    return crop_keypoints(keypoints, box, size)


def place(canvas: np.ndarray, patch: np.ndarray, box: CropBox, mask: np.ndarray | None = None) -> None:
    """Paste a square patch (S x S [x C]) into canvas at box, resized to the box (the inverse of crop_padded);
    with mask (S x S bool), only masked pixels are written. Parts outside the canvas are dropped."""
    interpolation = cv2.INTER_AREA if box.width < patch.shape[0] else cv2.INTER_LINEAR
    resized = cv2.resize(patch, (box.width, box.height), interpolation=interpolation)
    keep = None
    if mask is not None:
        keep = cv2.resize(mask.astype(np.uint8), (box.width, box.height), interpolation=cv2.INTER_NEAREST) > 0
    height, width = canvas.shape[:2]
    x0, y0 = max(0, box.x0), max(0, box.y0)
    x1, y1 = min(width, box.x0 + box.width), min(height, box.y0 + box.height)
    if x1 <= x0 or y1 <= y0:
        return
    region = resized[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0]
    if keep is None:
        canvas[y0:y1, x0:x1] = region
    else:
        sub = keep[y0 - box.y0 : y1 - box.y0, x0 - box.x0 : x1 - box.x0]
        canvas[y0:y1, x0:x1][sub] = region[sub]
