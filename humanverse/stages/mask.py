"""Stage: an 8-bit person mask per image, the `mask.png` member, in the original image's pixels.

A backend is a predictor from RGB images and each image's person boxes (xyxy) to person-probability maps at
each image's size; BACKENDS (stages/backend_table.py rows) names them, so another model plugs in as one more
row (Sapiens2 matting for the hands work is `sapiens`: it mattes the boxes' padded union; MediaPipe ignores
the boxes). Under outpainting the map is computed on the canvas and outpaint_restore crops it back to the
original frame, like depth and normals. info["mask"] records backend, model and encoding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal

import numpy as np
from pydantic import field_validator

from humanverse.config_base import Section
from humanverse.core.frame import DenseMap
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.shards.encoding import MASK_ENCODING, encode_mask8
from humanverse.stages.backend_table import Backend, ChosenBackend, known
from humanverse.stages.dense_rows import sapiens_files

MaskPredictor = Callable[[list[np.ndarray], list[np.ndarray]], list[np.ndarray]]


class MaskConfig(Section):
    backend: str = "mediapipe_selfie"
    """A row of BACKENDS. mediapipe_selfie: MediaPipe selfie segmentation (trained, in the mediapipe wheel;
    best on large people). sapiens: Sapiens2 matting 1B (transformers; Sapiens2 License), matted on the
    padded union of the person boxes."""
    sapiens_weights: str = "hf:facebook/sapiens2-matting-1b"
    """backend sapiens: the Sapiens2 matting HF folder (a path, relative to the models dir, or hf:<repo>)."""
    model_selection: Literal[0, 1] = 0
    """mediapipe_selfie: 0 general (256x256), 1 landscape (144x256, faster)."""
    resources: Resources = Resources(num_cpus=1, num_gpus=0, batch_size=8)

    @field_validator("backend")
    @classmethod
    def _a_row(cls, value: str) -> str:
        return known(BACKENDS, "mask.backend", value)


def _selfie_files(cfg: MaskConfig, models_dir: str | None) -> list[Path]:
    from humanverse.models.mask.mask_mediapipe import selfie_files

    return selfie_files(cfg.model_selection)


def _load_selfie(cfg: MaskConfig, files: list[Path], stage: Stage) -> MaskPredictor:
    from humanverse.models.mask.mask_mediapipe import SelfieSegmentation

    model = SelfieSegmentation(cfg.model_selection)
    return lambda images, boxes: model(images)


def _load_sapiens(cfg: MaskConfig, files: list[Path], stage: Stage) -> MaskPredictor:
    from humanverse.models.sapiens.matting import SapiensMatting

    return SapiensMatting(files[0].parent, stage.use_device())


BACKENDS: dict[str, Backend] = {
    "mediapipe_selfie": Backend(
        "mediapipe_selfie", ("mediapipe-selfie-segmentation",), weights=lambda c: None, files=_selfie_files,
        load=_load_selfie,
        label=lambda c: "mediapipe-0.10.21-selfie-segmentation" + ("-landscape" if c.model_selection else ""),
        shown=lambda c: "MediaPipe selfie segmentation", demo="trained",
    ),
    "sapiens": Backend(
        "sapiens", ("sapiens2-matting-1b",), weights=lambda c: c.sapiens_weights,
        files=sapiens_files("sapiens_weights"), load=_load_sapiens, label=lambda c: "sapiens2-matting",
        shown=lambda c: c.sapiens_weights, demo="random",
    ),
}
"""mask.backend -> its row (stages/backend_table.py)."""


def _encode_mask(prob: np.ndarray) -> tuple[bytes, dict]:
    return encode_mask8(prob), {}


class MaskStage(ChosenBackend, Stage):
    name = "mask"
    backends = BACKENDS
    publishes = (DenseMap("mask", "linear", _encode_mask),)

    def __init__(self, cfg: MaskConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._predict: MaskPredictor | None = None
        self._id: str | None = None

    def setup(self) -> None:
        self._predict = self.load_backend()
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._id is None:
            self._id = self.backend_id()
        return {"mask": self._id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        if not todo:
            return
        boxes = [np.array([p["box"] for p in s.persons], dtype=np.float32).reshape(-1, 4) for s in todo]
        probs = self._predict([s.image for s in todo], boxes)
        for sample, prob in zip(todo, probs):
            sample.info["mask"] = {"backend": self.cfg.backend, "model": self._id, "encoding": MASK_ENCODING}
            self.record_models(sample, "mask")
            self.publish_map(sample, "mask", prob)  # outpainted: restore crops it to the original frame
