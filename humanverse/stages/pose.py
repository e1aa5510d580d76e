"""Stage: whole-body pose (COCO-WholeBody 133 keypoints) for every kept person box.

Writes person["keypoints"] = 133 x [x, y, score] in original-image pixels, the model id under
info["models"]["pose"] and the backend under info["pose"]. Crops of all persons of a micro-batch go through
the model together. Usable outside Ray: PoseStage(PoseConfig(backend="mediapipe")).setup(), then
process(samples). The `sapiens` backend also keeps its own 308 Goliath points as person["keypoints_goliath"]
(models/sapiens/goliath_keypoints.py says which of them fill the 133). BACKENDS is the pose table
(stages/backend_table.py): a row's predictor maps images and person boxes to each person's keypoint sets,
which the stage declares in `publishes` (core/frame.py) so outpaint restore maps them back.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from humanverse.models.pose.pose_topdown import estimate_poses, estimate_poses_from_crops
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.frame import PersonPoints
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.stages.backend_table import Backend, ChosenBackend, known
from humanverse.stages.dense_rows import sapiens_row


class MediaPipePoseConfig(Section):
    """Options of the mediapipe backend (its trained models ship inside the mediapipe wheel)."""

    holistic: bool = True
    """True: BlazePose body + feet, face mesh and hands (Holistic, ~25 ms a crop); False: body + feet only."""
    crop_size: tuple[int, int] = (512, 384)
    """(height, width) of the person crop handed to MediaPipe; larger keeps small faces and hands legible."""
    min_detection_confidence: float = Field(0.5, ge=0, le=1)


class PoseConfig(Section):
    backend: str = "mmpose"
    """A row of BACKENDS. mmpose: the paper's ViTPose via MMPose 1.1. onnx: the same network exported, run by
    onnxruntime. mediapipe: MediaPipe BlazePose + face mesh + hands (trained, Apache-2.0, in the wheel; no
    weights file). sapiens: Meta's Sapiens2 pose (308 Goliath keypoints, mapped into the 133) through
    transformers."""
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

    @field_validator("backend")
    @classmethod
    def _a_row(cls, value: str) -> str:
        return known(BACKENDS, "pose.backend", value)


PoseRunner = Callable[[list[np.ndarray], list[np.ndarray]], list[list[dict[str, np.ndarray]]]]
"""(images, per-image N x 4 boxes) -> per image, per person: {person key: K x 3 [x, y, score]}."""


def _heatmap_runner(cfg: PoseConfig, heatmaps, input_size, extra: dict | None = None) -> PoseRunner:
    def run(images, boxes):
        found = estimate_poses(images, boxes, heatmaps, input_size=input_size, padding=cfg.bbox_padding,
                               flip_test=cfg.flip_test, batch_size=cfg.crop_batch, **(extra or {}))
        return [[{"keypoints": kp} for kp in kps] for kps in found]
    run.heatmaps = heatmaps  # the network, for bench/gpu_stages.py's timing of its forward
    return run


def _load_mmpose(cfg: PoseConfig, files: list[Path], stage: Stage) -> PoseRunner:
    from humanverse.models.pose.pose_mmpose import MMPoseHeatmaps

    return _heatmap_runner(cfg, MMPoseHeatmaps(cfg.arch, files[0], cfg.input_size, stage.use_device()), cfg.input_size)


def _load_onnx(cfg: PoseConfig, files: list[Path], stage: Stage) -> PoseRunner:
    from humanverse.models.pose.pose_onnx import OnnxHeatmaps

    device = stage.use_device()
    return _heatmap_runner(cfg, OnnxHeatmaps(files[0], cfg.input_size, stage.threads, device), cfg.input_size)


def _load_mediapipe(cfg: PoseConfig, files: list[Path], stage: Stage) -> PoseRunner:
    from humanverse.models.pose.pose_mediapipe import MediaPipeWholeBody

    mp = cfg.mediapipe
    model = MediaPipeWholeBody(mp.holistic, mp.min_detection_confidence)  # no torch in this worker

    def run(images, boxes):
        found = estimate_poses_from_crops(images, boxes, model, input_size=mp.crop_size, padding=cfg.bbox_padding)
        return [[{"keypoints": kp} for kp in kps] for kps in found]
    return run


def _load_sapiens(cfg: PoseConfig, files: list[Path], stage: Stage) -> PoseRunner:
    from humanverse.models.sapiens.goliath_keypoints import GOLIATH_FLIP_INDICES, goliath_to_coco_wholebody
    from humanverse.models.sapiens.pose import SapiensHeatmaps

    heatmaps = SapiensHeatmaps(files[0].parent, cfg.sapiens_input_size, stage.use_device())
    goliath = _heatmap_runner(cfg, heatmaps, cfg.sapiens_input_size,
                              {"codec": "udp", "flip_indices": GOLIATH_FLIP_INDICES})

    def run(images, boxes):  # its own 308 points, then the 133 filled from them
        return [[{"keypoints_goliath": p["keypoints"], "keypoints": goliath_to_coco_wholebody(p["keypoints"])}
                 for p in persons] for persons in goliath(images, boxes)]
    return run


def _weights_file(cfg: PoseConfig, models_dir: str | None) -> list[Path]:
    return [locate(cfg.weights, [], models_dir)]


def _mediapipe_files(cfg: PoseConfig, models_dir: str | None) -> list[Path]:
    from humanverse.models.pose.pose_mediapipe import mediapipe_files

    return mediapipe_files(cfg.mediapipe.holistic)


def _vitpose_label(cfg: PoseConfig) -> str:
    return f"{cfg.arch}-wholebody ({cfg.backend})"


def _build_tiny_vitpose(root: Path):
    from humanverse.models.pose import pose_mmpose

    return pose_mmpose.build_demo_weights(root)


BACKENDS: dict[str, Backend] = {
    "mmpose": Backend(
        "mmpose", ("vitpose-h-wholebody",), weights=lambda c: c.weights, files=_weights_file, load=_load_mmpose,
        label=_vitpose_label, shown=_vitpose_label, demo="random",
        demo_build=("pose (tiny ViTPose, mmpose layout)", _build_tiny_vitpose),
    ),
    "onnx": Backend(
        "onnx", (), weights=lambda c: c.weights, files=_weights_file, load=_load_onnx,
        label=_vitpose_label, shown=_vitpose_label, demo="random",
    ),
    "mediapipe": Backend(
        "mediapipe", ("mediapipe-holistic",), weights=lambda c: None, files=_mediapipe_files, load=_load_mediapipe,
        label=lambda c: "mediapipe-0.10.21-" + ("holistic" if c.mediapipe.holistic else "blazepose-full"),
        shown=lambda c: "MediaPipe " + ("Holistic (BlazePose, face mesh, hands)" if c.mediapipe.holistic
                                        else "BlazePose"),
        demo="trained",
    ),
    "sapiens": sapiens_row("sapiens2-pose-0.4b", "sapiens_weights", "sapiens_arch", "pose-308", _load_sapiens,
                           shown=lambda c: f"{c.sapiens_arch} (sapiens)"),
}
"""pose.backend -> its row (stages/backend_table.py)."""


class PoseStage(ChosenBackend, Stage):
    name = "pose"
    backends = BACKENDS
    publishes = (
        PersonPoints("keypoints", outside="keypoints_outside", on_canvas=True),
        PersonPoints("keypoints_goliath"),  # the sapiens backend's own 308 points
    )

    def __init__(self, cfg: PoseConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._run: PoseRunner | None = None
        self._model_id: str | None = None

    def setup(self) -> None:
        self._run = self.load_backend()
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._model_id is None:
            self._model_id = self.backend_id()
        return {"pose": self._model_id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        boxes = [np.array([p["box"] for p in s.persons], dtype=np.float32).reshape(-1, 4) for s in todo]
        found = self._run([s.image for s in todo], boxes)
        for sample, persons in zip(todo, found):
            for person, points in zip(sample.persons, persons):
                for key, kp in points.items():
                    person[key] = _rounded(kp)
            self.record_models(sample, "pose")
            sample.info["pose"] = {"backend": self.cfg.backend, "model": self._model_id}


def _rounded(kp) -> list[list[float]]:
    return [[round(float(x), 2), round(float(y), 2), round(float(c), 4)] for x, y, c in kp]
