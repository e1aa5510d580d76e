"""Hands from keypoints: the per-person `hands` entries of the json (docs/hands.md, "Hand data").

One hand is 21 points in the MediaPipe / COCO-WholeBody order (wrist, then thumb, index, middle, ring and
pinky, base to tip). Its box is a square around the points whose score reaches the visibility threshold:
centred on their tight box, side = `box_scale` x its longer side (at least `min_box_side_px`), then shifted
inside the image. Only a square larger than the image's shorter side is clipped (and is then no longer
square). A hand with no visible point is not listed. Pure functions, so the pose stage's hands and HaGRID's
annotated hands get exactly the same boxes.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from pydantic import Field

from humanverse.config_base import Section

LEFT_HAND = slice(91, 112)
RIGHT_HAND = slice(112, 133)
"""COCO-WholeBody indices of the person's own left and right hand (21 points each)."""
HAND_POINTS = 21


class HandBoxConfig(Section):
    """How a hand's box and visibility are read from its 21 keypoints."""

    min_score: float = Field(0.3, ge=0, le=1)
    """A keypoint is visible when its score is >= this (MMPose's whole-body demo threshold)."""
    box_scale: float = Field(1.5, ge=1)
    """Square side = this x the longer side of the visible points' tight box: fingers' keypoints sit on the
    joints' centres, so the tight box cuts the finger pads and the palm's edge; 1.5 keeps them."""
    min_box_side_px: float = Field(16, ge=1)
    """Floor of the square's side, for hands with one or a few visible points."""


def square_box(points: np.ndarray, width: int, height: int, cfg: HandBoxConfig) -> list[float]:
    """[x0, y0, x1, y1] of the square around `points` (N x 2 px), shifted (not shrunk) into the image."""
    lo, hi = points.min(axis=0), points.max(axis=0)
    side = max(float((hi - lo).max()) * cfg.box_scale, cfg.min_box_side_px)
    box = []
    for centre, limit in zip((lo + hi) / 2.0, (width, height)):
        start = float(centre) - side / 2.0
        start = min(max(start, 0.0), max(limit - side, 0.0))  # shift inside; clip only when side > limit
        box.append((start, min(start + side, float(limit))))
    (x0, x1), (y0, y1) = box
    return [round(x0, 2), round(y0, 2), round(x1, 2), round(y1, 2)]


def hand_entry(side: str, keypoints: np.ndarray, width: int, height: int, cfg: HandBoxConfig, source: str,
               outside: Iterable[bool] | None = None) -> dict | None:
    """The contract's hand dict from 21 x [x, y, score] image px, or None when no point is visible.

    A point counts as visible when its score reaches the threshold and it lies inside the image (and, for
    outpainted samples, is not flagged `outside` the original frame)."""
    kp = np.asarray(keypoints, dtype=np.float64).reshape(HAND_POINTS, 3)
    inside = (kp[:, 0] >= 0) & (kp[:, 0] <= width) & (kp[:, 1] >= 0) & (kp[:, 1] <= height)
    visible = (kp[:, 2] >= cfg.min_score) & inside
    if outside is not None:
        visible &= ~np.asarray(list(outside), dtype=bool)
    if not visible.any():
        return None
    return {
        "side": side,
        "box": square_box(kp[visible, :2], width, height, cfg),
        "keypoints": [[round(float(x), 2), round(float(y), 2), round(float(c), 4)] for x, y, c in kp],
        "score": round(float(kp[:, 2].mean()), 4),
        "visible_frac": round(float(visible.mean()), 4),
        "source": source,
    }


def hands_from_wholebody(person: dict, width: int, height: int, cfg: HandBoxConfig) -> list[dict]:
    """Left then right hand of one person from its 133 COCO-WholeBody keypoints (the pose stage's)."""
    kp = np.asarray(person["keypoints"], dtype=np.float64)
    outside = person.get("keypoints_outside")
    hands = []
    for side, part in (("left", LEFT_HAND), ("right", RIGHT_HAND)):
        entry = hand_entry(side, kp[part], width, height, cfg, "pose", None if outside is None else outside[part])
        if entry is not None:
            hands.append(entry)
    return hands


def box_side(hand: dict) -> float:
    """The hand box's shorter side in px (its side, unless clipped by an image smaller than the square)."""
    x0, y0, x1, y1 = hand["box"]
    return min(x1 - x0, y1 - y0)
