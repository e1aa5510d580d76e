"""Hand metrics of `humanverse eval --method hand-first`: hand pose accuracy and the hand crops FID/KID uses.

Hand PCK (definition). The project's pose stage (any backend that returns COCO-WholeBody's 133 points: the
MediaPipe holistic backend's hand landmarks, offline in the mediapipe wheel, or ViTPose-wholebody where its
weights exist) is run top-down on the condition persons' boxes, exactly as for body PCK (pose_accuracy.py).
For each condition hand (21 slots, left or right) the scored points are those with condition score >=
min_condition_score inside the image; the hand's size is the long side of the tight box around them. A point
is correct when the estimate for that slot has a score > 0 and lies within alpha x that size (alpha 0.2
by default). A hand whose slots the estimator leaves empty counts all its points as misses, and is reported
in `hands_found` (the fraction of condition hands with any estimated point).

Hand crops: for every condition hand with >= 2 scored points, the square box around them widened by
`box_margin` each side (hand_geometry.box_from_keypoints, the sampler's own rule), cropped at crop_size from
the real and the generated image alike; FID/KID of the two crop sets are the hand image-quality numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanverse.eval.pose_accuracy import Condition
from humanverse.train.hand.hand_data import WHOLEBODY_HANDS
from humanverse.train.hand.hand_geometry import box_from_keypoints, crop_padded


@dataclass(frozen=True)
class HandRef:
    image: int
    person: int
    side: str


def condition_hands(conditions: list[Condition], min_score: float) -> list[HandRef]:
    """Every condition hand with at least two scored points."""
    refs = []
    for index, condition in enumerate(conditions):
        for person, keypoints in enumerate(condition.keypoints):
            for side, part in WHOLEBODY_HANDS.items():
                if int((keypoints[part][:, 2] >= min_score).sum()) >= 2:
                    refs.append(HandRef(index, person, side))
    return refs


def hand_pck(estimates: list[np.ndarray], conditions: list[Condition], sizes: list[tuple[int, int]], alpha: float,
             min_score: float) -> dict:
    """PCK over the condition hands (see the module docstring); sizes are the images' (width, height)."""
    correct = scored = found = hands = 0
    for ref in condition_hands(conditions, min_score):
        part = WHOLEBODY_HANDS[ref.side]
        target = conditions[ref.image].keypoints[ref.person][part]
        guess = estimates[ref.image][ref.person][part]
        width, height = sizes[ref.image]
        inside = (target[:, 0] >= 0) & (target[:, 0] <= width - 1) & (target[:, 1] >= 0) & (target[:, 1] <= height - 1)
        use = (target[:, 2] >= min_score) & inside
        if not use.any():
            continue
        points = target[use, :2]
        size = max(float((points.max(axis=0) - points.min(axis=0)).max()), 1.0)
        hit = (np.linalg.norm(guess[:, :2] - target[:, :2], axis=1) <= alpha * size) & (guess[:, 2] > 0)
        correct += int((hit & use).sum())
        scored += int(use.sum())
        hands += 1
        found += int((guess[:, 2] > 0).any())
    return {"pck": correct / scored if scored else None, "correct": correct, "scored": scored, "alpha": alpha,
            "hands": hands, "hands_found": found / hands if hands else None}


def hand_crops(images: list[np.ndarray], conditions: list[Condition], keys: list[str], min_score: float,
               margin: float, size: int) -> tuple[list[str], list[np.ndarray]]:
    """(crop keys, crops) for every condition hand, the same boxes for whichever image set is passed."""
    crop_keys, crops = [], []
    for ref in condition_hands(conditions, min_score):
        keypoints = conditions[ref.image].keypoints[ref.person][WHOLEBODY_HANDS[ref.side]]
        box = box_from_keypoints(keypoints, min_score, margin)
        crops.append(crop_padded(images[ref.image], box, size))
        crop_keys.append(f"{keys[ref.image]}/{ref.person}/{ref.side}")
    return crop_keys, crops
