"""Stage: an 8-bit person mask per image, the `mask.png` member, in the original image's pixels.

A backend is a predictor from RGB images to person-probability maps at each image's size; BACKENDS names
them, so another model plugs in as one more entry and one more `mask.backend` value (Sapiens2 matting for
the hands work is `sapiens`; it is handed the person boxes too and mattes their padded union). Under outpainting the map is computed on the canvas and outpaint_restore crops it
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
    backend: Literal["mediapipe_selfie", "sapiens"] = "mediapipe_selfie"
    """mediapipe_selfie: MediaPipe selfie segmentation (trained, in the mediapipe wheel; best on large people).
    sapiens: Sapiens2 matting 1B (transformers; Sapiens2 License), matted on the padded union of the person boxes."""
    sapiens_weights: str = "hf:facebook/sapiens2-matting-1b"
    """backend sapiens: the Sapiens2 matting HF folder (a path, relative to the models dir, or hf:<repo>)."""
    model_selection: Literal[0, 1] = 0
    """mediapipe_selfie: 0 general (256x256), 1 landscape (144x256, faster)."""
    resources: Resources = Resources(num_cpus=1, num_gpus=0, batch_size=8)


Backend = tuple[str, list[Path], Callable[[], MaskPredictor]]


def _mediapipe_selfie(cfg: MaskConfig, models_dir: str | None = None, device: str = "cpu") -> Backend:
    from humanverse.models.mask.mask_mediapipe import SelfieSegmentation, selfie_files

    label = "mediapipe-0.10.21-selfie-segmentation" + ("-landscape" if cfg.model_selection else "")
    return label, selfie_files(cfg.model_selection), lambda: SelfieSegmentation(cfg.model_selection)


def _sapiens(cfg: MaskConfig, models_dir: str | None = None, device: str = "cpu") -> Backend:
    from humanverse.models.sapiens.matting import mask_backend

    return mask_backend(cfg.sapiens_weights, models_dir, device)


# backend name -> ((cfg, models dir, device) -> (model label, files it reads, a factory of the predictor))
BACKENDS = {"mediapipe_selfie": _mediapipe_selfie, "sapiens": _sapiens}
# backends that also take each image's person boxes (xyxy, the pixels they see)
BOXED = {"sapiens"}


class MaskStage(Stage):
    name = "mask"

    def __init__(self, cfg: MaskConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._predict: MaskPredictor | None = None
        self._id: str | None = None

    def weight_checks(self):
        return [lambda: BACKENDS[self.cfg.backend](self.cfg, self.models_dir)]

    def setup(self) -> None:
        _, _, factory = BACKENDS[self.cfg.backend](self.cfg, self.models_dir, self.use_device())
        self._predict = factory()
        self.model_ids()

    def model_ids(self) -> dict[str, str]:
        if self._id is None:
            label, files, _ = BACKENDS[self.cfg.backend](self.cfg, self.models_dir)
            self._id = model_id(label, files)
        return {"mask": self._id}

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        if not todo:
            return
        images = [s.image for s in todo]
        if self.cfg.backend in BOXED:
            boxes = [np.array([p["box"] for p in s.persons], dtype=np.float32).reshape(-1, 4) for s in todo]
            probs = self._predict(images, boxes)
        else:
            probs = self._predict(images)
        for sample, prob in zip(todo, probs):
            sample.info["mask"] = {"backend": self.cfg.backend, "model": self._id, "encoding": MASK_ENCODING}
            self.record_models(sample, "mask")
            if stash_map(sample, "mask", prob):
                continue  # outpainted: outpaint_restore crops it to the original frame and encodes it
            sample.members["mask.png"] = encode_mask8(prob)
            sample.info["mask"]["member"] = "mask.png"
