"""Stage: whole-body pose (COCO-WholeBody 133 keypoints) for every kept person box.

Writes person["keypoints"] = 133 x [x, y, score] in original-image pixels, the model id under
info["models"]["pose"] and the backend under info["pose"]. Crops of all persons of a micro-batch go through
the model together. Usable outside Ray: PoseStage(PoseConfig(backend="mediapipe")).setup(), then
process(samples). The `sapiens` backend also keeps its own 308 Goliath points as person["keypoints_goliath"]
(models/sapiens/goliath_keypoints.py says which of them fill the 133).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from humanverse.models.checkpoint_io import model_id
from humanverse.models.pose.pose_topdown import estimate_poses, estimate_poses_from_crops
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage


class MediaPipePoseConfig(Section):
    """Options of the mediapipe backend (its trained models ship inside the mediapipe wheel)."""

    holistic: bool = True
    """True: BlazePose body + feet, face mesh and hands (Holistic, ~25 ms a crop); False: body + feet only."""
    crop_size: tuple[int, int] = (512, 384)
    """(height, width) of the person crop handed to MediaPipe; larger keeps small faces and hands legible."""
    min_detection_confidence: float = Field(0.5, ge=0, le=1)


class PoseConfig(Section):
    backend: Literal["mmpose", "onnx", "mediapipe", "sapiens"] = "mmpose"
    """mmpose: the paper's ViTPose via MMPose 1.1. onnx: the same network exported, run by onnxruntime.
    mediapipe: MediaPipe BlazePose + face mesh + hands (trained, Apache-2.0, in the wheel; no weights file).
    sapiens: Meta's Sapiens2 pose (308 Goliath keypoints, mapped into the 133) through transformers."""
    arch: Literal["vitpose-h", "vitpose-b", "tiny"] = "vitpose-h"
    weights: str = "vitpose/vitpose-h-wholebody.safetensors"
    """Published ViTPose whole-body .pth (mmpose) or its export (.onnx); a path or relative to the models dir.
    Unused by the mediapipe backend."""
    mediapipe: MediaPipePoseConfig = MediaPipePoseConfig()
    flip_test: bool = True
    """Heatmap backends only."""
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
        self._keypoints = None
        self._model_id: str | None = None

    def weight_checks(self):
        return [self._files]

    def _files(self) -> list[Path]:
        """The files the model is read from: the weights, the mediapipe wheel's tflite models, or (sapiens) the HF
        folder's config.json first, then its weights."""
        if self.cfg.backend == "sapiens":
            from humanverse.models.sapiens.loader import folder_files

            return folder_files(self.cfg.sapiens_weights, self.models_dir)
        if self.cfg.backend == "mediapipe":
            from humanverse.models.pose.pose_mediapipe import mediapipe_files

            return mediapipe_files(self.cfg.mediapipe.holistic)
        return [locate(self.cfg.weights, [], self.models_dir)]

    def setup(self) -> None:
        if self.cfg.backend == "mediapipe":
            from humanverse.models.pose.pose_mediapipe import MediaPipeWholeBody

            mp_cfg = self.cfg.mediapipe
            self._keypoints = MediaPipeWholeBody(mp_cfg.holistic, mp_cfg.min_detection_confidence)
            self.model_ids()
            return
        device = self.use_device()
        path = self._files()[0]
        if self.cfg.backend == "sapiens":
            from humanverse.models.sapiens.pose import SapiensHeatmaps

            self._heatmaps = SapiensHeatmaps(path.parent, self.cfg.sapiens_input_size, device)
        elif self.cfg.backend == "mmpose":
            from humanverse.models.pose.pose_mmpose import MMPoseHeatmaps

            self._heatmaps = MMPoseHeatmaps(self.cfg.arch, path, self.cfg.input_size, device)
        else:
            from humanverse.models.pose.pose_onnx import OnnxHeatmaps

            self._heatmaps = OnnxHeatmaps(path, self.cfg.input_size, self.threads, device)
        self.model_ids()

    def model_label(self) -> str:
        if self.cfg.backend == "mediapipe":
            return "mediapipe-0.10.21-" + ("holistic" if self.cfg.mediapipe.holistic else "blazepose-full")
        if self.cfg.backend == "sapiens":
            return f"{self.cfg.sapiens_arch}-pose-308"
        return f"{self.cfg.arch}-wholebody ({self.cfg.backend})"

    def model_ids(self) -> dict[str, str]:
        if self._model_id is None:
            self._model_id = model_id(self.model_label(), self._files())
        return {"pose": self._model_id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        boxes = [np.array([p["box"] for p in s.persons], dtype=np.float32).reshape(-1, 4) for s in todo]
        images = [s.image for s in todo]
        if self.cfg.backend == "mediapipe":
            keypoints = estimate_poses_from_crops(
                images, boxes, self._keypoints, input_size=self.cfg.mediapipe.crop_size, padding=self.cfg.bbox_padding
            )
        else:
            sapiens = self.cfg.backend == "sapiens"
            extra = {}
            if sapiens:
                from humanverse.models.sapiens.goliath_keypoints import GOLIATH_FLIP_INDICES

                extra = {"codec": "udp", "flip_indices": GOLIATH_FLIP_INDICES}
            keypoints = estimate_poses(
                images,
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
                if self.cfg.backend == "sapiens":
                    from humanverse.models.sapiens.goliath_keypoints import goliath_to_coco_wholebody

                    person["keypoints_goliath"] = _rounded(kp)
                    kp = goliath_to_coco_wholebody(kp)
                person["keypoints"] = _rounded(kp)
            self.record_models(sample, "pose")
            sample.info["pose"] = {"backend": self.cfg.backend, "model": self._model_id}


def _rounded(kp) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2), round(float(c), 4)] for x, y, c in kp]
