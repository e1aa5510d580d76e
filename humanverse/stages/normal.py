"""Stage: surface normals from Omnidata DPT-hybrid or Sapiens2, as the 8-bit RGB `normal.png` member (DESIGN §5).

Normals are unit vectors at the image's original size in NORMAL_CONVENTION, which info["normal"] also names,
so a reader never has to guess the frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import field_validator

from humanverse.models.dense.resize_mode import ResizeMode
from humanverse.config_base import Section
from humanverse.core.frame import DenseMap
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.shards.encoding import NORMAL_CONVENTION, encode_normal
from humanverse.stages.backend_table import Backend, ChosenBackend, known
from humanverse.stages.dense_rows import omnidata_row, sapiens_row


class NormalConfig(Section):
    backend: str = "omnidata"
    """A row of BACKENDS. omnidata: the paper's Omnidata DPT-hybrid. sapiens: Meta's Sapiens2 normal head
    (transformers)."""
    weights: str = "omnidata/omnidata_dpt_normal_v2.safetensors"
    arch: Literal["dpt-hybrid", "tiny"] = "dpt-hybrid"
    resize: ResizeMode = "pad"
    """pad keeps the image's geometry (a stretch would tilt the predicted normals); Sapiens2 always pads."""
    sapiens_weights: str = "hf:facebook/sapiens2-normal-0.4b"
    """backend sapiens: the Sapiens2 normal HF folder (a path, relative to the models dir, or hf:<repo>)."""
    sapiens_arch: Literal["sapiens2-0.4b", "sapiens2-1b", "sapiens2-tiny"] = "sapiens2-0.4b"
    """backend sapiens: names the model in json and run.json (the architecture comes from the folder)."""
    sapiens_frame: Literal["opengl", "opencv"] = "opengl"
    """Sapiens2's output axes: opengl (x right, y up, z to camera: the evidence, README) or opencv (y, z flipped)."""
    resources: Resources = Resources(num_cpus=2, num_gpus=0, batch_size=4)

    @field_validator("backend")
    @classmethod
    def _a_row(cls, value: str) -> str:
        return known(BACKENDS, "normal.backend", value)


def _load_sapiens(cfg: NormalConfig, files: list[Path], stage: Stage):
    from humanverse.models.sapiens.dense import SapiensNormals

    return SapiensNormals(files[0].parent, stage.use_device(), cfg.sapiens_frame)


BACKENDS: dict[str, Backend] = {
    "omnidata": omnidata_row("normal", "omnidata-normal-v2", "weights", "arch", "resize"),
    "sapiens": sapiens_row("sapiens2-normal-0.4b", "sapiens_weights", "sapiens_arch", "normal", _load_sapiens),
}
"""normal.backend -> its row (stages/backend_table.py): RGB images -> H x W x 3 unit normals per image."""


def _encode_normal(normals: np.ndarray) -> tuple[bytes, dict]:
    return encode_normal(normals), {}


class NormalStage(ChosenBackend, Stage):
    name = "normal"
    backends = BACKENDS
    publishes = (DenseMap("normal", "normals", _encode_normal),)

    def __init__(self, cfg: NormalConfig, models_dir: str | None = None):
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
        return {"normal": self._id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        if not todo:
            return
        for sample, normals in zip(todo, self._predict([s.image for s in todo])):
            sample.info["normal"] = {"model": self._id, "convention": NORMAL_CONVENTION}
            self.record_models(sample, "normal")
            self.publish_map(sample, "normal", normals)  # outpainted: restore crops it to the original frame
