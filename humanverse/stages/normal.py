"""Stage: surface normals from Omnidata DPT-hybrid, as the 8-bit RGB `normal.png` member (DESIGN §5).

Normals are unit vectors at the image's original size in NORMAL_CONVENTION, which info["normal"] also names,
so a reader never has to guess the frame.
"""

from __future__ import annotations

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
    weights: str = "omnidata/omnidata_dpt_normal_v2.ckpt"
    arch: Literal["dpt-hybrid", "tiny"] = "dpt-hybrid"
    resize: ResizeMode = "pad"
    """pad keeps the image's geometry (a stretch would tilt the predicted normals)."""
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
        return [lambda: locate(self.cfg.weights, [], self.models_dir)]

    def setup(self) -> None:
        from humanverse.models.dense.omnidata import OmnidataPredictor

        device = self.use_device()
        path = locate(self.cfg.weights, [], self.models_dir)
        self._predict = OmnidataPredictor(path, "normal", self.cfg.arch, device, self.cfg.resize)
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._id is None:
            path = locate(self.cfg.weights, [], self.models_dir)
            self._id = model_id(f"omnidata-{self.cfg.arch}-normal-v2", [path])
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
