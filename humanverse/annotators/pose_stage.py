"""Stage: whole-body pose (COCO-WholeBody 133 keypoints) for every kept person box.

Writes person["keypoints"] = 133 x [x, y, score] in original-image pixels and the model id under
info["models"]["pose"]. Crops of all persons of a micro-batch go through the model together. The `sapiens`
backend also keeps its own 308 Goliath points as person["keypoints_goliath"] (goliath_keypoints.py says
which of them fill the 133).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from humanverse.annotators.checkpoints import model_id
from humanverse.annotators.device import pick_device, set_cpu_threads
from humanverse.annotators.pose_topdown import estimate_poses
from humanverse.config_base import Section
from humanverse.model_files import locate
from humanverse.pipeline.sample import Sample
from humanverse.pipeline.stage import Resources, Stage


class PoseConfig(Section):
    backend: Literal["mmpose", "onnx", "sapiens"] = "mmpose"
    """mmpose: the paper's ViTPose via MMPose 1.1. onnx: the same network exported, run by onnxruntime.
    sapiens: Meta's Sapiens2 pose (308 Goliath keypoints, mapped into the 133) through transformers."""
    arch: Literal["vitpose-h", "vitpose-b", "tiny"] = "vitpose-h"
    weights: str = "vitpose/vitpose-h-wholebody.pth"
    """Published ViTPose whole-body .pth (mmpose) or its export (.onnx); a path or relative to the models dir."""
    flip_test: bool = True
    bbox_padding: float = Field(1.25, gt=0)
    input_size: tuple[int, int] = (256, 192)
    """Model input (height, width), as in ViTPose's '256x192'; heatmaps are a quarter of it."""
    sapiens_arch: Literal["sapiens2-0.4b", "sapiens2-1b", "sapiens2-tiny"] = "sapiens2-0.4b"
    """backend sapiens: names the model in json and run.json (the architecture comes from the folder)."""
    sapiens_weights: str = "hf:facebook/sapiens2-pose-0.4b"
    """backend sapiens: the Sapiens2 pose HF folder (a path, relative to the models dir, or hf:<repo>)."""
    sapiens_input_size: tuple[int, int] = (1024, 768)
    """backend sapiens: model input (height, width); Sapiens2 was trained at 1024x768."""
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

    def check_models(self) -> None:
        self._files()

    def _files(self) -> list[Path]:
        """The files the model is read from (for sapiens: the HF folder's config.json first, then its weights)."""
        if self.cfg.backend == "sapiens":
            from humanverse.annotators.sapiens_models import folder_files

            return folder_files(self.cfg.sapiens_weights, self.models_dir)
        return [locate(self.cfg.weights, [], self.models_dir)]

    def setup(self) -> None:
        device = pick_device(self.resources.num_gpus > 0)
        threads = set_cpu_threads(self.resources.threads or int(self.resources.num_cpus) or None)
        path = self._files()[0]
        if self.cfg.backend == "sapiens":
            from humanverse.annotators.pose_sapiens import SapiensHeatmaps

            self._heatmaps = SapiensHeatmaps(path.parent, self.cfg.sapiens_input_size, device)
        elif self.cfg.backend == "mmpose":
            from humanverse.annotators.pose_mmpose import MMPoseHeatmaps

            self._heatmaps = MMPoseHeatmaps(self.cfg.arch, path, self.cfg.input_size, device)
        else:
            from humanverse.annotators.pose_onnx import OnnxHeatmaps

            self._heatmaps = OnnxHeatmaps(path, self.cfg.input_size, threads, device)
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._model_id is None:
            sapiens = self.cfg.backend == "sapiens"
            label = f"{self.cfg.sapiens_arch}-pose-308" if sapiens else f"{self.cfg.arch}-wholebody ({self.cfg.backend})"
            self._model_id = model_id(label, self._files())
        return {"pose": self._model_id}

    def process(self, batch: list[Sample]) -> None:
        todo = [s for s in batch if s.alive and s.image is not None]
        boxes = [np.array([p["box"] for p in s.persons], dtype=np.float32).reshape(-1, 4) for s in todo]
        sapiens = self.cfg.backend == "sapiens"
        extra = {}
        if sapiens:
            from humanverse.annotators.goliath_keypoints import GOLIATH_FLIP_INDICES

            extra = {"codec": "udp", "flip_indices": GOLIATH_FLIP_INDICES}
        keypoints = estimate_poses(
            [s.image for s in todo],
            boxes,
            self._heatmaps,
            input_size=self.cfg.sapiens_input_size if sapiens else self.cfg.input_size,
            padding=self.cfg.bbox_padding,
            flip_test=self.cfg.flip_test,
            batch_size=self.cfg.crop_batch,
            **extra,
        )
        for sample, kps in zip(todo, keypoints):
            for person, kp in zip(sample.persons, kps):
                if sapiens:
                    from humanverse.annotators.goliath_keypoints import goliath_to_coco_wholebody

                    person["keypoints_goliath"] = _rounded(kp)
                    kp = goliath_to_coco_wholebody(kp)
                person["keypoints"] = _rounded(kp)
            sample.info.setdefault("models", {})["pose"] = self._model_id


def _rounded(kp) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2), round(float(c), 4)] for x, y, c in kp]
