"""Sapiens2 person matting (Sapiens2ForImageMatting, published at 1B) as a `mask` backend.

Self-contained so that the mask stage plugs it in as one more backend: `SapiensMatting` is a predictor from
RGB images (and person boxes) to alpha maps in [0, 1] at each image's own size (the mask stage's
MaskPredictor contract; its `sapiens` row in stages/mask.py loads it), and `mask_backend` returns a
(model label, files, predictor factory) triple for use without the stage.
With person boxes, each image is matted on the padded union of its boxes instead of whole, so small people
get more of the model's 1024 x 768 input; alpha is 0 outside that region. `matte_persons` is the one-call
form: images + boxes -> 8-bit alpha in original pixels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from humanverse.core.device import autocast_dtype
from humanverse.models.sapiens.loader import folder_files, load_sapiens

DEFAULT_WEIGHTS = "hf:facebook/sapiens2-matting-1b"


def region_of(boxes: np.ndarray, width: int, height: int, padding: float = 1.25) -> tuple[int, int, int, int]:
    """The union of xyxy boxes grown by `padding` about its centre, clipped to the image (x0, y0, x1, y1)."""
    boxes = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
    if len(boxes) == 0:
        return 0, 0, width, height
    x0, y0 = boxes[:, :2].min(0)
    x1, y1 = boxes[:, 2:].max(0)
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) * padding / 2, (y1 - y0) * padding / 2
    rx0, ry0 = max(0, int(np.floor(cx - hw))), max(0, int(np.floor(cy - hh)))
    rx1, ry1 = min(width, int(np.ceil(cx + hw))), min(height, int(np.ceil(cy + hh)))
    if rx1 <= rx0 or ry1 <= ry0:
        return 0, 0, width, height
    return rx0, ry0, rx1, ry1


class SapiensMatting:
    """RGB uint8 images (and optional per-image xyxy person boxes) -> alpha (H x W float32 in [0, 1])."""

    def __init__(self, path: str | Path, device: str = "cpu", padding: float = 1.25):
        self.device, self.padding = device, padding
        self.model, self.processor = load_sapiens("matting", path, device)
        self.dtype = autocast_dtype(device)

    @torch.inference_mode()
    def __call__(self, images: list[np.ndarray], boxes: list[np.ndarray] | None = None) -> list[np.ndarray]:
        if not images:
            return []
        regions = [
            region_of(b, im.shape[1], im.shape[0], self.padding) if boxes is not None else (0, 0, im.shape[1], im.shape[0])
            for im, b in zip(images, boxes if boxes is not None else images)
        ]
        crops = [np.ascontiguousarray(im[y0:y1, x0:x1]) for im, (x0, y0, x1, y1) in zip(images, regions)]
        batch = self.processor(images=crops, return_tensors="pt")
        with torch.autocast(device_type="cuda", dtype=self.dtype, enabled=self.device == "cuda"):
            out = self.model(pixel_values=batch["pixel_values"].to(self.device))
        out.alphas, out.foregrounds = out.alphas.float(), out.foregrounds.float()
        mattes = self.processor.post_process_image_matting(out, target_sizes=[c.shape[:2] for c in crops])
        alphas = []
        for im, (x0, y0, x1, y1), m in zip(images, regions, mattes):
            alpha = np.zeros(im.shape[:2], dtype=np.float32)
            alpha[y0:y1, x0:x1] = m["alpha"][0].cpu().numpy().clip(0.0, 1.0)
            alphas.append(alpha)
        return alphas


def to_uint8(alpha: np.ndarray) -> np.ndarray:
    return np.round(np.clip(alpha, 0.0, 1.0) * 255.0).astype(np.uint8)


def matte_persons(matting: SapiensMatting, images: list[np.ndarray], boxes: list[np.ndarray]) -> list[np.ndarray]:
    """Images + their person boxes (xyxy, original pixels) -> 8-bit alpha masks in original pixels."""
    return [to_uint8(a) for a in matting(images, boxes)]


def mask_backend(weights: str = DEFAULT_WEIGHTS, models_dir: str | None = None, device: str | None = None):
    """(model label, files, predictor factory): the entry the mask stage's BACKENDS table expects."""
    files = folder_files(weights, models_dir)

    def factory() -> SapiensMatting:
        from humanverse.core.device import pick_device

        return SapiensMatting(files[0].parent, device or pick_device(True))

    return "sapiens2-matting", files, factory
