"""Stage: surface normals from Omnidata DPT-hybrid or Sapiens2, as the 8-bit RGB `normal.png` member (DESIGN §5).

Normals are unit vectors at the image's original size in NORMAL_CONVENTION, which info["normal"] also names,
so a reader never has to guess the frame.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from humanverse.models.checkpoint_io import model_id
from humanverse.models.dense.resize_mode import ResizeMode
from humanverse.stages.outpaint_state import stash_map
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.shards.encoding import NORMAL_CONVENTION, encode_normal


class NormalConfig(Section):
    backend: Literal["omnidata", "sapiens"] = "omnidata"
    """omnidata: the paper's Omnidata DPT-hybrid. sapiens: Meta's Sapiens2 normal head (transformers)."""
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


class NormalStage(Stage):
    name = "normal"

    def __init__(self, cfg: NormalConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._predict = None
        self._id: str | None = None

    def weight_checks(self):
        return [self._files]

    def _files(self) -> list[Path]:
        if self.cfg.backend == "sapiens":
            from humanverse.models.sapiens.loader import folder_files

            return folder_files(self.cfg.sapiens_weights, self.models_dir)
        return [locate(self.cfg.weights, [], self.models_dir)]

    def setup(self) -> None:
        device = self.use_device()
        files = self._files()
        if self.cfg.backend == "sapiens":
            from humanverse.models.sapiens.dense import SapiensNormals

            self._predict = SapiensNormals(files[0].parent, device, self.cfg.sapiens_frame)
        else:
            from humanverse.models.dense.omnidata import OmnidataPredictor

            self._predict = OmnidataPredictor(files[0], "normal", self.cfg.arch, device, self.cfg.resize)
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._id is None:
            sapiens = self.cfg.backend == "sapiens"
            label = f"{self.cfg.sapiens_arch}-normal" if sapiens else f"omnidata-{self.cfg.arch}-normal-v2"
            self._id = model_id(label, self._files())
        return {"normal": self._id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        if not todo:
            return
        for sample, normals in zip(todo, self._predict([s.image for s in todo])):
            sample.info["normal"] = {"model": self._id, "convention": NORMAL_CONVENTION}
            self.record_models(sample, "normal")
            if stash_map(sample, "normal", normals):
                continue  # outpainted: outpaint_restore crops it to the original frame and encodes it
            sample.members["normal.png"] = encode_normal(normals)
            sample.info["normal"]["member"] = "normal.png"
