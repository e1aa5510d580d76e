"""Stage (optional, the `parts` section): Sapiens2 body-part segmentation as the `parts.png` member.

`{key}.parts.png` is an 8-bit single-channel PNG of class ids (SEG_CLASSES) in the original image's pixels;
info["parts"] names the model, the class set and the hand classes, which give the hands method (Pelykh et
al.) its hand masks directly: left hand = (parts == 6), right hand = (parts == 15). Under outpainting the
map is predicted on the canvas and outpaint_restore crops it back to the original frame (a declared label
map: class ids are never blended).
"""

from __future__ import annotations

import io
from typing import Literal

import numpy as np

from pathlib import Path

from pydantic import field_validator

from humanverse.config_base import Section
from humanverse.core.frame import DenseMap
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.stages.backend_table import Backend, ChosenBackend, known
from humanverse.stages.dense_rows import sapiens_row

SEG_CLASSES = (
    "Background", "Apparel", "Eyeglass", "Face_Neck", "Hair", "Left_Foot", "Left_Hand", "Left_Lower_Arm",
    "Left_Lower_Leg", "Left_Shoe", "Left_Sock", "Left_Upper_Arm", "Left_Upper_Leg", "Lower_Clothing",
    "Right_Foot", "Right_Hand", "Right_Lower_Arm", "Right_Lower_Leg", "Right_Shoe", "Right_Sock",
    "Right_Upper_Arm", "Right_Upper_Leg", "Torso", "Upper_Clothing", "Lower_Lip", "Upper_Lip", "Lower_Teeth",
    "Upper_Teeth", "Tongue",
)
"""Sapiens2's 29 body-part classes, from facebookresearch/sapiens2 docs/SEG.md (= DOME_CLASSES_29 in
sapiens/dense/src/datasets/seg/seg_utils.py). Left/right are the person's own sides."""
HAND_CLASSES = {"left_hand": SEG_CLASSES.index("Left_Hand"), "right_hand": SEG_CLASSES.index("Right_Hand")}
CLASS_SET = "sapiens2-body-parts-29"


class PartsConfig(Section):
    backend: str = "sapiens"
    """A row of BACKENDS."""
    weights: str = "hf:facebook/sapiens2-seg-0.4b"
    """Sapiens2 segmentation, HF layout (folder or hf:<repo> in the local HF cache)."""
    arch: Literal["sapiens2-0.4b", "sapiens2-1b", "sapiens2-tiny"] = "sapiens2-0.4b"
    """Names the model in json and run.json; the architecture comes from the folder's config."""
    resources: Resources = Resources(num_cpus=2, num_gpus=0, batch_size=4)

    @field_validator("backend")
    @classmethod
    def _a_row(cls, value: str) -> str:
        return known(BACKENDS, "parts.backend", value)


def encode_classes(classes: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(classes, dtype=np.uint8), mode="L").save(buf, format="PNG", compress_level=6)
    return buf.getvalue()


def decode_classes(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


def _load_sapiens(cfg: PartsConfig, files: list[Path], stage: Stage):
    from humanverse.models.sapiens.dense import SapiensParts

    return SapiensParts(files[0].parent, stage.use_device())


BACKENDS: dict[str, Backend] = {
    "sapiens": sapiens_row("sapiens2-seg-0.4b", "weights", "arch", "seg", _load_sapiens),
}
"""parts.backend -> its row (stages/backend_table.py): RGB images -> H x W class ids (SEG_CLASSES)."""


def _encode_parts(classes: np.ndarray) -> tuple[bytes, dict]:
    return encode_classes(classes), {}


class PartsStage(ChosenBackend, Stage):
    name = "parts"
    backends = BACKENDS
    publishes = (DenseMap("parts", "nearest", _encode_parts),)

    def __init__(self, cfg: PartsConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._predict = None
        self._id: str | None = None

    def setup(self) -> None:
        self._predict = self.load_backend()
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._id is None:
            self._id = self.backend_id()
        return {"parts": self._id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        if not todo:
            return
        for sample, classes in zip(todo, self._predict([s.image for s in todo])):
            sample.info["parts"] = {"model": self._id, "classes": CLASS_SET, "hand_classes": HAND_CLASSES}
            self.publish_map(sample, "parts", classes)  # outpainted: restore crops it to the original frame
            self.record_models(sample, "parts")
