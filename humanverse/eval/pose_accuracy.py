"""Pose accuracy of generated images: the project's pose stage run on them, scored against the condition pose.

Definition (PCK, the issue allows it in place of the paper's AP/AR): the pose stage is run top-down on each
condition person's box; a condition keypoint (score >= min_condition_score, inside the image) is correct when
the estimate lies within pck_alpha (0.2) x the long side of that person's box. A keypoint the estimator does
not give (score 0, or a part the backend lacks) counts as a miss, as in bench accuracy figures. "body" scores
the 17 COCO body keypoints, "wholebody" all 133. Using the condition boxes rather than a detector isolates
pose accuracy from detection (HyperHuman's AP uses a detector; documented in the README).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from humanverse.stages.pose import PoseStage
from humanverse.eval.config import PoseAccuracyConfig
from humanverse.core.sample import Sample

BODY = slice(0, 17)


@dataclass
class Condition:
    """One eval sample's condition persons in the frame of the image being scored."""

    boxes: np.ndarray  # (P, 4) xyxy
    keypoints: np.ndarray  # (P, 133, 3)


def estimate(stage: PoseStage, images: list[np.ndarray], conditions: list[Condition]) -> list[np.ndarray]:
    """(P, 133, 3) estimates per image, one per condition box, through the stage's own `process`."""
    samples = []
    for index, (image, condition) in enumerate(zip(images, conditions)):
        sample = Sample(key=f"eval{index}", task_id="eval", source={})
        sample.image = image
        sample.persons = [{"box": [float(v) for v in box]} for box in condition.boxes]
        samples.append(sample)
    stage.process(samples)
    out = []
    for sample in samples:
        points = [p.get("keypoints") for p in sample.persons]
        out.append(np.array([k if k is not None else np.zeros((133, 3)) for k in points], dtype=np.float32)
                   .reshape(-1, 133, 3))
    return out


def pck_counts(estimates: np.ndarray, condition: Condition, cfg: PoseAccuracyConfig,
               width: int, height: int) -> tuple[int, int]:
    """(correct, scored) keypoints of one image."""
    part = BODY if cfg.keypoints == "body" else slice(0, 133)
    correct = scored = 0
    for box, target, guess in zip(condition.boxes, condition.keypoints, estimates):
        target, guess = target[part], guess[part]
        inside = (target[:, 0] >= 0) & (target[:, 0] <= width - 1) & (target[:, 1] >= 0) & (target[:, 1] <= height - 1)
        use = (target[:, 2] >= cfg.min_condition_score) & inside
        limit = cfg.pck_alpha * max(box[2] - box[0], box[3] - box[1])
        hit = (np.linalg.norm(guess[:, :2] - target[:, :2], axis=1) <= limit) & (guess[:, 2] > 0)
        correct += int((hit & use).sum())
        scored += int(use.sum())
    return correct, scored


def pose_accuracy(stage: PoseStage, images: list[np.ndarray], conditions: list[Condition],
                  cfg: PoseAccuracyConfig, estimates: list[np.ndarray] | None = None) -> dict:
    """Body (or whole-body) PCK; `estimates` from `estimate` when the caller already ran the stage."""
    if estimates is None:
        estimates = estimate(stage, images, conditions)
    correct = scored = 0
    for image, condition, guess in zip(images, conditions, estimates):
        c, s = pck_counts(guess, condition, cfg, image.shape[1], image.shape[0])
        correct, scored = correct + c, scored + s
    return {"pck": correct / scored if scored else None, "correct": correct, "scored": scored,
            "alpha": cfg.pck_alpha, "keypoints": cfg.keypoints}
