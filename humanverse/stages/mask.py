"""Stage: an 8-bit person mask per image, the `mask.png` member, in the original image's pixels.

A backend is a predictor from RGB images to person-probability maps at each image's size; BACKENDS names
them, so another model (e.g. Sapiens matting for the hands work) plugs in as one more entry and one more
`mask.backend` value. Under outpainting the map is computed on the canvas and outpaint_restore crops it
back to the original frame, like depth and normals. info["mask"] records backend, model and encoding.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Literal

import numpy as np

from humanverse.config_base import Section
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.models.checkpoint_io import model_id
from humanverse.shards.encoding import MASK_ENCODING, encode_mask8
from humanverse.stages.outpaint_state import stash_map

MaskPredictor = Callable[[list[np.ndarray]], list[np.ndarray]]


class MaskConfig(Section):
    backend: Literal["mediapipe_selfie"] = "mediapipe_selfie"
    """mediapipe_selfie: MediaPipe selfie segmentation (trained, in the mediapipe wheel; best on large people)."""
    model_selection: Literal[0, 1] = 0
    """mediapipe_selfie: 0 general (256x256), 1 landscape (144x256, faster)."""
    resources: Resources = Resources(num_cpus=1, num_gpus=0, batch_size=8)


def _mediapipe_selfie(cfg: MaskConfig) -> tuple[str, list[Path], Callable[[], MaskPredictor]]:
    from humanverse.models.mask.mask_mediapipe import SelfieSegmentation, selfie_files

    label = "mediapipe-0.10.21-selfie-segmentation" + ("-landscape" if cfg.model_selection else "")
    return label, selfie_files(cfg.model_selection), lambda: SelfieSegmentation(cfg.model_selection)


# backend name -> (cfg -> (model label, files it reads, a factory of the predictor))
BACKENDS = {"mediapipe_selfie": _mediapipe_selfie}


class MaskStage(Stage):
    name = "mask"

    def __init__(self, cfg: MaskConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._predict: MaskPredictor | None = None
        self._id: str | None = None

    def weight_checks(self):
        return [lambda: BACKENDS[self.cfg.backend](self.cfg)]

    def setup(self) -> None:
        _, _, factory = BACKENDS[self.cfg.backend](self.cfg)
        self._predict = factory()
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._id is None:
            label, files, _ = BACKENDS[self.cfg.backend](self.cfg)
            self._id = model_id(label, files)
        return {"mask": self._id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        if not todo:
            return
        for sample, prob in zip(todo, self._predict([s.image for s in todo])):
            sample.info["mask"] = {"backend": self.cfg.backend, "model": self._id, "encoding": MASK_ENCODING}
            self.record_models(sample, "mask")
            if stash_map(sample, "mask", prob):
                continue  # outpainted: outpaint_restore crops it to the original frame and encodes it
            sample.members["mask.png"] = encode_mask8(prob)
            sample.info["mask"]["member"] = "mask.png"
