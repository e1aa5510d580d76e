"""Stage: whole-body pose (COCO-WholeBody 133 keypoints) for every kept person box.

Writes person["keypoints"] = 133 x [x, y, score] in original-image pixels and the model id under
info["models"]["pose"]. Crops of all persons of a micro-batch go through the model together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from humanverse.models.checkpoint_io import model_id
from humanverse.models.pose.pose_topdown import estimate_poses
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage


class PoseConfig(Section):
    backend: Literal["mmpose", "onnx"] = "mmpose"
    """mmpose: the paper's ViTPose via MMPose 1.1. onnx: the same network exported, run by onnxruntime."""
    arch: Literal["vitpose-h", "vitpose-b", "tiny"] = "vitpose-h"
    weights: str = "vitpose/vitpose-h-wholebody.pth"
    """Published ViTPose whole-body .pth (mmpose) or its export (.onnx); a path or relative to the models dir."""
    flip_test: bool = True
    bbox_padding: float = Field(1.25, gt=0)
    input_size: tuple[int, int] = (256, 192)
    """Model input (height, width), as in ViTPose's '256x192'; heatmaps are a quarter of it."""
    crop_batch: int = Field(32, ge=1)
    """Person crops per forward call (doubled internally with flip test)."""
    resources: Resources = Resources(num_cpus=2, num_gpus=0, batch_size=8)


class PoseStage(Stage):
    name = "pose"

    def __init__(self, cfg: PoseConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._heatmaps = None
        self._model_id: str | None = None

    def weight_checks(self):
        return [self._weights]

    def _weights(self) -> Path:
        return locate(self.cfg.weights, [], self.models_dir)

    def setup(self) -> None:
        device = self.use_device()
        path = self._weights()
        if self.cfg.backend == "mmpose":
            from humanverse.models.pose.pose_mmpose import MMPoseHeatmaps

            self._heatmaps = MMPoseHeatmaps(self.cfg.arch, path, self.cfg.input_size, device)
        else:
            from humanverse.models.pose.pose_onnx import OnnxHeatmaps

            self._heatmaps = OnnxHeatmaps(path, self.cfg.input_size, self.threads, device)
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._model_id is None:
            self._model_id = model_id(f"{self.cfg.arch}-wholebody ({self.cfg.backend})", [self._weights()])
        return {"pose": self._model_id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        boxes = [np.array([p["box"] for p in s.persons], dtype=np.float32).reshape(-1, 4) for s in todo]
        keypoints = estimate_poses(
            [s.image for s in todo],
            boxes,
            self._heatmaps,
            input_size=self.cfg.input_size,
            padding=self.cfg.bbox_padding,
            flip_test=self.cfg.flip_test,
            batch_size=self.cfg.crop_batch,
        )
        for sample, kps in zip(todo, keypoints):
            for person, kp in zip(sample.persons, kps):
                person["keypoints"] = [[round(float(x), 2), round(float(y), 2), round(float(c), 4)] for x, y, c in kp]
            self.record_models(sample, "pose")
