"""HaGRID's annotated hands onto the detected persons, with the side each one is.

The HaGRID reader (sources/hagrid.py) leaves each row's hands in sample.meta["hagrid_hands"]: 21 MediaPipe
landmarks in normalised image coordinates and the gesture label, per hand. They become the contract's hand
dicts (source "hagrid", every landmark scored 1.0: an annotation, not a prediction).

HaGRIDv2 does not say which hand is the person's left or right.
A hand goes to the person whose (slightly widened) box holds it; at most two per person, the rest and hands
on no detected person are counted as unassigned. The side is decided, in this order:
1. pose_wrists: the pose stage's wrists (COCO 9 left, 10 right) where they are visible: nearest wrist, and
   for two hands the pairing with the smaller total distance;
2. leading_hand: HaGRID v1's `leading_hand` names the gesturing hand (label other than no_gesture); a
   second hand is the other side;
3. frontal: HaGRID's subjects face the camera, so the person's right hand is on the image's left: of two
   hands the left one in the image is "right"; a single hand left of its person's box centre is "right".
Each hand says which rule decided it (`side_from`).
"""

from __future__ import annotations

import numpy as np

from humanverse.stages.hand_boxes import HAND_POINTS, HandBoxConfig, hand_entry

LEFT_WRIST, RIGHT_WRIST = 9, 10
NO_GESTURE = "no_gesture"
REACH = 0.25
"""A hand belongs to a person when it lies within their box widened by this x its size: detector boxes can
cut a raised or outstretched hand; farther out it is someone else's (an undetected person's) hand."""


def hagrid_keypoints(landmarks: list, width: int, height: int) -> np.ndarray:
    """21 x [x, y, 1.0] px from 21 normalised [x, y]."""
    lm = np.asarray(landmarks, dtype=np.float64).reshape(HAND_POINTS, 2)
    return np.column_stack([lm[:, 0] * width, lm[:, 1] * height, np.ones(HAND_POINTS)])


def _box_distance(point: np.ndarray, box: list[float]) -> float:
    x0, y0, x1, y1 = box
    dx = max(x0 - point[0], 0.0, point[0] - x1)
    dy = max(y0 - point[1], 0.0, point[1] - y1)
    return float(np.hypot(dx, dy))


def owner(point: np.ndarray, persons: list[dict], reach: float = REACH) -> int | None:
    """The person whose box, widened by `reach` x its size on every side, holds the point (of several, the
    one whose own box is nearest, then whose centre is nearest), or None: a hand on no detected person."""
    def key(i: int):
        x0, y0, x1, y1 = persons[i]["box"]
        centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
        return _box_distance(point, persons[i]["box"]), float(np.hypot(*(point - centre)))

    def holds(i: int) -> bool:
        x0, y0, x1, y1 = persons[i]["box"]
        dx, dy = reach * (x1 - x0), reach * (y1 - y0)
        return x0 - dx <= point[0] <= x1 + dx and y0 - dy <= point[1] <= y1 + dy

    candidates = [i for i in range(len(persons)) if holds(i)]
    return min(candidates, key=key) if candidates else None


def _sides_from_wrists(centres: list[np.ndarray], person: dict, min_score: float) -> list[str] | None:
    kp = person.get("keypoints")
    if not kp or len(centres) > 2:
        return None
    wrists = {"left": kp[LEFT_WRIST], "right": kp[RIGHT_WRIST]}
    seen = {side: np.array(w[:2]) for side, w in wrists.items() if w[2] >= min_score}
    if len(seen) < len(centres) or not seen:
        return None
    dist = {side: [float(np.hypot(*(c - w))) for c in centres] for side, w in seen.items()}
    if len(centres) == 1:
        return [min(seen, key=lambda s: dist[s][0])]
    straight = dist["left"][0] + dist["right"][1]
    crossed = dist["right"][0] + dist["left"][1]
    return ["left", "right"] if straight <= crossed else ["right", "left"]


def _sides_from_leading(labels: list[str], leading: str | None) -> list[str] | None:
    if leading not in ("left", "right") or len(labels) > 2:
        return None
    other = "right" if leading == "left" else "left"
    gesturing = [label != NO_GESTURE for label in labels]
    if sum(gesturing) != 1:
        return None
    return [leading if g else other for g in gesturing]


def _sides_frontal(centres: list[np.ndarray], person: dict) -> list[str]:
    if len(centres) == 2:
        return ["right", "left"] if centres[0][0] <= centres[1][0] else ["left", "right"]
    x0, _, x1, _ = person["box"]
    return ["right" if c[0] < (x0 + x1) / 2 else "left" for c in centres]


def attach_hagrid_hands(persons: list[dict], raw: list[dict], leading: str | None, width: int, height: int,
                        cfg: HandBoxConfig) -> int:
    """Set persons[i]["hands"] from HaGRID's hands (replacing any from the pose stage) for every person they
    land on; returns how many annotated hands are left unassigned (on no detected person, or beyond two)."""
    owned: dict[int, list[tuple[dict, np.ndarray]]] = {}
    unassigned = 0
    for hand in raw:
        kp = hagrid_keypoints(hand["landmarks"], width, height)
        index = owner(kp[:, :2].mean(axis=0), persons) if persons else None
        if index is None or len(owned.get(index, [])) == 2:
            unassigned += 1
            continue
        owned.setdefault(index, []).append((hand, kp))
    for person in persons:
        person.pop("hands", None)
    for index, hands in owned.items():
        person = persons[index]
        centres = [kp[:, :2].mean(axis=0) for _, kp in hands]
        labels = [h["label"] for h, _ in hands]
        sides, rule = _sides_from_wrists(centres, person, cfg.min_score), "pose_wrists"
        if sides is None:
            sides, rule = _sides_from_leading(labels, leading), "leading_hand"
        if sides is None:
            sides, rule = _sides_frontal(centres, person), "frontal"
        entries = []
        for (hand, kp), side in zip(hands, sides):
            entry = hand_entry(side, kp, width, height, cfg, "hagrid")
            if entry is not None:
                entries.append({**entry, "side_from": rule, "label": hand["label"]})
        person["hands"] = entries
    return unassigned
