"""Reading hands from the shards, by the hands contract only (notes: hands_contract.md, docs/hands.md).

Per person, json `persons[i]["hands"]` lists 0..2 hands: side, a square box in original-image pixels, the 21
hand keypoints [x, y, score] (wrist, then thumb, index, middle, ring, pinky, base to tip: the order
COCO-WholeBody and MediaPipe share), a mean score, the visible fraction and the source ("pose" or "hagrid").
An optional `{key}.hand_mask.png` member holds 255 on hand pixels at the original image size. Where it is
absent, the mask is drawn from the keypoints (`mask_from_keypoints`): the filled convex hull of the visible
keypoints, dilated by `mask_dilation` x the box side, so fingers keep some flesh around their bones.

This module is the hand methods' only reader of those fields; it parses and validates, nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from humanverse.shards.untrusted import decode_array

HAND_KEYPOINTS = 21
SIDES = ("left", "right")
WHOLEBODY_HANDS = {"left": slice(91, 112), "right": slice(112, 133)}
"""Where each hand's 21 points sit in COCO-WholeBody's 133 (the person's own left / right)."""
HAND_MASK_MEMBER = "hand_mask.png"


class BadHands(ValueError):
    """The json's hands do not follow the contract."""


@dataclass(frozen=True)
class Hand:
    side: str
    box: tuple[float, float, float, float]
    keypoints: np.ndarray  # (21, 3) original-image pixels
    score: float
    visible_frac: float
    source: str
    person: int

    def scaled(self, sx: float, sy: float) -> "Hand":
        """The same hand in an image resized by (sx, sy) (pixel-centre convention, joint_crop.py)."""
        from humanverse.train.common.joint_crop import scale_keypoints

        x0, y0, x1, y1 = self.box
        box = ((x0 + 0.5) * sx - 0.5, (y0 + 0.5) * sy - 0.5, (x1 + 0.5) * sx - 0.5, (y1 + 0.5) * sy - 0.5)
        return Hand(self.side, box, scale_keypoints(self.keypoints, sx, sy), self.score, self.visible_frac,
                    self.source, self.person)


def read_hands(meta: dict[str, Any]) -> list[Hand]:
    """Every listed hand of every person, in person order; BadHands when a field breaks the contract."""
    hands = []
    for index, person in enumerate(meta.get("persons") or []):
        for entry in person.get("hands") or []:
            try:
                side = entry["side"]
                box = tuple(float(v) for v in entry["box"])
                keypoints = np.asarray(entry["keypoints"], dtype=np.float32)
                score, visible = float(entry["score"]), float(entry["visible_frac"])
                source = str(entry.get("source", "pose"))
            except (KeyError, TypeError, ValueError) as why:
                raise BadHands(f"person {index}: {why!r}") from None
            if side not in SIDES or len(box) != 4 or keypoints.shape != (HAND_KEYPOINTS, 3):
                raise BadHands(f"person {index}: side {side!r}, box {box}, keypoints {keypoints.shape}")
            if not np.isfinite(keypoints).all() or box[2] <= box[0] or box[3] <= box[1]:
                raise BadHands(f"person {index}: non-finite keypoints or empty box {box}")
            hands.append(Hand(side, box, keypoints, score, visible, source, index))
    return hands


def decode_hand_mask(raw: dict[str, Any], width: int, height: int) -> np.ndarray | None:
    """The hand_mask.png member as a bool H x W array at (width, height), or None when the sample has none."""
    data = raw.get(HAND_MASK_MEMBER)
    if data is None:
        return None
    mask = decode_array(data, "L")  # under the reader's pixel cap (shards/untrusted.py)
    if mask.shape != (height, width):
        mask = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
    return mask >= 128


def mask_from_keypoints(hands: list[Hand], width: int, height: int, score_threshold: float,
                        dilation: float) -> np.ndarray:
    """Bool H x W: each hand's filled convex hull of visible keypoints, dilated by dilation x its box side."""
    mask = np.zeros((height, width), dtype=np.uint8)
    for hand in hands:
        points = hand.keypoints[hand.keypoints[:, 2] >= score_threshold, :2]
        if len(points) == 0:
            continue
        hull = cv2.convexHull(np.round(points).astype(np.int32))
        single = np.zeros_like(mask)
        cv2.fillConvexPoly(single, hull, 1)
        side = max(hand.box[2] - hand.box[0], hand.box[3] - hand.box[1])
        radius = max(1, int(round(dilation * side)))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        mask |= cv2.dilate(single, kernel)
    return mask.astype(bool)
