"""Render 133 COCO-WholeBody keypoints as a skeleton image, the pose condition both training stages consume.

The style follows HumanSD / T2I-Adapter, which draw mmpose's visualisation of the skeleton on a black canvas:
coloured limbs (green left, orange right, blue torso/face, one colour per finger) and small keypoint dots,
with line width scaled to the image size. mmpose is not importable in our venv (see MACHINE.md), so the link
list and colours are written down once here, copied from mmpose's dataset metainfo:
https://github.com/open-mmlab/mmpose/blob/main/configs/_base_/datasets/coco_wholebody.py (skeleton_info,
keypoint_info). Drawing uses OpenCV's anti-aliased line and circle primitives.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

NUM_KEYPOINTS = 133

_GREEN = (0, 255, 0)
_ORANGE = (255, 128, 0)
_BLUE = (51, 153, 255)
_WHITE = (255, 255, 255)
_FINGER_COLOURS = {
    "thumb": (255, 128, 0),
    "forefinger": (255, 153, 255),
    "middle": (102, 178, 255),
    "ring": (255, 51, 51),
    "pinky": (0, 255, 0),
}


def _hand_links(wrist: int, first: int) -> list[tuple[int, int, tuple[int, int, int]]]:
    """mmpose links each finger from the body wrist (not the hand root) through its four joints."""
    links = []
    for finger_index, colour in enumerate(_FINGER_COLOURS.values()):
        joints = [wrist] + [first + 4 * finger_index + j for j in range(4)]
        links += [(a, b, colour) for a, b in zip(joints, joints[1:])]
    return links


# (keypoint a, keypoint b, RGB colour), in mmpose's skeleton_info order (65 links).
SKELETON: list[tuple[int, int, tuple[int, int, int]]] = [
    (15, 13, _GREEN), (13, 11, _GREEN), (16, 14, _ORANGE), (14, 12, _ORANGE),  # legs
    (11, 12, _BLUE), (5, 11, _BLUE), (6, 12, _BLUE), (5, 6, _BLUE),  # torso
    (5, 7, _GREEN), (6, 8, _ORANGE), (7, 9, _GREEN), (8, 10, _ORANGE),  # arms
    (1, 2, _BLUE), (0, 1, _BLUE), (0, 2, _BLUE), (1, 3, _BLUE), (2, 4, _BLUE), (3, 5, _BLUE), (4, 6, _BLUE),  # head
    (15, 17, _GREEN), (15, 18, _GREEN), (15, 19, _GREEN),  # left foot
    (16, 20, _ORANGE), (16, 21, _ORANGE), (16, 22, _ORANGE),  # right foot
    *_hand_links(wrist=9, first=92),  # left hand: keypoints 92..111
    *_hand_links(wrist=10, first=113),  # right hand: keypoints 113..132
]


def _keypoint_colours() -> list[tuple[int, int, int]]:
    colours = [_BLUE] * 5 + [_GREEN if i % 2 == 1 else _ORANGE for i in range(5, 17)]
    colours += [_ORANGE] * 6 + [_WHITE] * 68  # feet, face
    for _ in range(2):  # hand root, then four joints per finger
        colours.append(_WHITE)
        for colour in _FINGER_COLOURS.values():
            colours += [colour] * 4
    assert len(colours) == NUM_KEYPOINTS
    return colours


KEYPOINT_COLOURS = _keypoint_colours()


def render_pose(
    persons_keypoints: Sequence[np.ndarray],
    width: int,
    height: int,
    score_threshold: float = 0.3,
    draw_face: bool = True,
) -> np.ndarray:
    """Draw each person's 133 x [x, y, score] keypoints (pixels of a width x height image); returns H x W x 3 uint8.

    A keypoint below score_threshold is not drawn and neither is any limb that touches it, so low-confidence
    detections never invent structure.
    """
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    thickness = max(1, round(max(width, height) / 128))
    radius = max(1, thickness)
    for keypoints in persons_keypoints:
        kp = np.asarray(keypoints, dtype=np.float32)
        if kp.shape != (NUM_KEYPOINTS, 3):
            raise ValueError(f"expected {NUM_KEYPOINTS} x 3 keypoints, got {kp.shape}")
        visible = np.isfinite(kp).all(axis=1) & (kp[:, 2] >= score_threshold)
        for a, b, colour in SKELETON:
            if visible[a] and visible[b]:
                pa = (int(round(kp[a, 0])), int(round(kp[a, 1])))
                pb = (int(round(kp[b, 0])), int(round(kp[b, 1])))
                cv2.line(canvas, pa, pb, colour, thickness, lineType=cv2.LINE_AA)
        for index in np.flatnonzero(visible):
            if not draw_face and 23 <= index < 91:
                continue
            centre = (int(round(kp[index, 0])), int(round(kp[index, 1])))
            cv2.circle(canvas, centre, radius, KEYPOINT_COLOURS[index], -1, lineType=cv2.LINE_AA)
    return canvas
