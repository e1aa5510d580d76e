"""MediaPipe's trained whole-body models, run on person crops: the pose backend with real weights offline.

The mediapipe 0.10.21 wheel ships BlazePose full, face mesh and hand landmark models (Apache-2.0). Holistic
chains them on one crop: body landmarks first, then face and hands found from the body. One crop holds one
person (the detector's box, padded as for every backend); where people overlap, a crop can return the
neighbour. Only model_complexity=1 ships in the wheel (0 and 2 would download), so it is fixed here.

Scores are on 0-1: a body or foot point has BlazePose's visibility; face points share the mean visibility of
BlazePose's face landmarks and hand points the visibility of that wrist, since those models give no per-point
confidence. Points a model did not return (face or hand not found, the small toes) have score 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanverse.models.pose import mediapipe_wholebody_map as wb
from humanverse.models.pose.pose_decode import NUM_KEYPOINTS
from humanverse.models.files import locate

# The wheel's files each model reads (for the model id's sha256); paths relative to the mediapipe package.
HOLISTIC_FILES = (
    "modules/pose_detection/pose_detection.tflite",
    "modules/pose_landmark/pose_landmark_full.tflite",
    "modules/face_landmark/face_landmark.tflite",
    "modules/holistic_landmark/hand_recrop.tflite",
    "modules/hand_landmark/hand_landmark_full.tflite",
)
POSE_FILES = HOLISTIC_FILES[:2]
BLAZEPOSE_FACE = slice(0, 11)
LEFT_WRIST, RIGHT_WRIST = 15, 16


def mediapipe_files(holistic: bool) -> list[Path]:
    """The tflite files inside the installed wheel; MissingModelFiles (with the install hint) when absent."""
    root = locate("wheel:mediapipe", list(HOLISTIC_FILES if holistic else POSE_FILES))
    return [root / f for f in (HOLISTIC_FILES if holistic else POSE_FILES)]


def _landmarks(lms, count: int) -> np.ndarray | None:
    """count x 3 [x, y, visibility] in normalised crop coordinates, or None when the model found nothing."""
    if lms is None:
        return None
    arr = np.array([[p.x, p.y, p.visibility] for p in lms.landmark], dtype=np.float32)
    return arr if len(arr) >= count else None


def to_wholebody(pose: np.ndarray | None, face: np.ndarray | None, left: np.ndarray | None,
                 right: np.ndarray | None) -> np.ndarray:
    """COCO-WholeBody 133 x [x, y, score] (normalised crop coordinates) from MediaPipe's landmark sets."""
    out = np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
    if pose is None:
        return out  # no body means holistic found nothing else either
    vis = np.clip(pose[:, 2], 0.0, 1.0)
    out[wb.BODY, :2] = pose[list(wb.BODY_FROM_BLAZEPOSE), :2]
    out[wb.BODY, 2] = vis[list(wb.BODY_FROM_BLAZEPOSE)]
    for i, src in enumerate(wb.FEET_FROM_BLAZEPOSE):
        if src is not None:
            out[wb.FEET.start + i] = (*pose[src, :2], vis[src])
    if face is not None:
        out[wb.FACE, :2] = np.stack([face[list(ix), :2].mean(axis=0) for ix in wb.FACE68_FROM_MESH])
        out[wb.FACE, 2] = float(vis[BLAZEPOSE_FACE].mean())
    for hand, part, wrist in ((left, wb.LEFT_HAND, LEFT_WRIST), (right, wb.RIGHT_HAND, RIGHT_WRIST)):
        if hand is not None:
            out[part, :2] = hand[:, :2]
            out[part, 2] = vis[wrist]
    return out


class MediaPipeWholeBody:
    """uint8 RGB crops (N x H x W x 3) -> N x 133 x 3 [x, y, score] in crop pixels, one person per crop."""

    def __init__(self, holistic: bool = True, min_detection_confidence: float = 0.5):
        from humanverse.models.protobuf_compat import restore_get_prototype

        restore_get_prototype()
        import mediapipe as mp

        self.holistic = holistic
        if holistic:
            self._model = mp.solutions.holistic.Holistic(
                static_image_mode=True, model_complexity=1, refine_face_landmarks=False,
                min_detection_confidence=min_detection_confidence,
            )
        else:
            self._model = mp.solutions.pose.Pose(
                static_image_mode=True, model_complexity=1, min_detection_confidence=min_detection_confidence
            )

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        out = np.zeros((len(crops), NUM_KEYPOINTS, 3), dtype=np.float32)
        for i, crop in enumerate(crops):
            h, w = crop.shape[:2]
            res = self._model.process(np.ascontiguousarray(crop))
            pose = _landmarks(res.pose_landmarks, 33)
            if self.holistic:
                kp = to_wholebody(pose, _landmarks(res.face_landmarks, 468), _landmarks(res.left_hand_landmarks, 21),
                                  _landmarks(res.right_hand_landmarks, 21))
            else:
                kp = to_wholebody(pose, None, None, None)
            kp[:, 0] *= w
            kp[:, 1] *= h
            out[i] = kp
        return out

    def close(self) -> None:
        self._model.close()
