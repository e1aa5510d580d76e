"""Sapiens2's whole-image heads as annotators: depth from the pointmap, surface normals, body-part classes.

Each takes RGB uint8 images of any size and returns one map per image at that image's own size. Pre- and
post-processing are transformers' Sapiens2ImageProcessor (the reference implementation): normal and
pointmap letterbox to the model's 1024 x 768 (aspect kept, zero padding) and crop the padding off again
before resizing back; segmentation stretches and resizes its logits back, as Meta's demos do.

Conventions (the evidence is in the README's model section):
  - pointmap: camera-frame XYZ, OpenCV axes (x right, y down, z forward): Meta's training target is
    X = (u - cx) Z / fx, Y = (v - cy) Z / fy, Z = depth (sapiens2 `PointmapGenerateTarget`), and its demo
    takes depth = pointmap[2] after dividing by the scale head's output (`vis_pointmap.py`). z is therefore
    metric depth; the shard gets 1 / z, min-max normalised (DESIGN §5), with z's metric range in json.
  - normals: the camera frame with x right (a horizontal flip negates x: `NormalRandomFlip`), y up and z
    towards the camera, i.e. already NORMAL_CONVENTION; `frame="opencv"` (y down, z away) is the one-key
    fix should real weights show the other frame.
  - Meta trains these heads on human pixels only (loss under the person mask), so background values are
    unconstrained; `parts.png` (class 0 = background) says which pixels are people.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch

from humanverse.core.device import autocast_dtype
from humanverse.models.sapiens.loader import SapiensTask, load_sapiens

NormalFrame = Literal["opengl", "opencv"]
MIN_DEPTH_M = 1e-3
"""z below this (behind or at the camera: only possible off the person) is clamped before inverting."""


class _SapiensDense:
    task: SapiensTask
    pad: bool

    def __init__(self, path: str | Path, device: str = "cpu"):
        self.device = device
        self.model, self.processor = load_sapiens(self.task, path, device)
        self.dtype = autocast_dtype(device)

    @torch.inference_mode()
    def _forward(self, images: list[np.ndarray]):
        batch = self.processor(images=[np.ascontiguousarray(im) for im in images], return_tensors="pt",
                               do_pad=self.pad)
        with torch.autocast(device_type="cuda", dtype=self.dtype, enabled=self.device == "cuda"):
            out = self.model(pixel_values=batch["pixel_values"].to(self.device))
        return out


class SapiensDepth(_SapiensDense):
    """RGB uint8 images -> relative inverse depth (H x W float32) per image; `last_ranges` holds each image's
    metric z range (metres) of the call, for the json."""

    task, pad = "pointmap", True

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        out = self._forward(images)
        out.pointmaps, out.scales = out.pointmaps.float(), None if out.scales is None else out.scales.float()
        maps = self.processor.post_process_pointmap_estimation(out, source_sizes=[im.shape[:2] for im in images])
        inverse, self.last_ranges = [], []
        for m in maps:
            z = m["pointmap"][2].cpu().numpy().astype(np.float32)
            self.last_ranges.append({"z_min_m": round(float(z.min()), 4), "z_max_m": round(float(z.max()), 4)})
            inverse.append(1.0 / np.maximum(z, MIN_DEPTH_M))
        return inverse


class SapiensNormals(_SapiensDense):
    """RGB uint8 images -> unit normals (H x W x 3 float32) in NORMAL_CONVENTION (x right, y up, z to camera)."""

    task, pad = "normal", True

    def __init__(self, path: str | Path, device: str = "cpu", frame: NormalFrame = "opengl"):
        super().__init__(path, device)
        self.frame = frame

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        out = self._forward(images)
        out.normals = out.normals.float()
        maps = self.processor.post_process_normal_estimation(out, source_sizes=[im.shape[:2] for im in images])
        return [sapiens_to_convention(m["normals"].cpu().numpy().transpose(1, 2, 0), self.frame) for m in maps]


def sapiens_to_convention(normals: np.ndarray, frame: NormalFrame = "opengl") -> np.ndarray:
    """H x W x 3 Sapiens2 normals -> unit vectors in NORMAL_CONVENTION; 'opencv' flips y and z."""
    n = normals.astype(np.float32).copy()
    if frame == "opencv":
        n[..., 1:] *= -1.0
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    fallback = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    return np.where(norm > 1e-6, n / np.maximum(norm, 1e-6), fallback)


class SapiensParts(_SapiensDense):
    """RGB uint8 images -> body-part class ids (H x W uint8, SEG_CLASSES) per image."""

    task, pad = "seg", False

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        out = self._forward(images)
        out.logits = out.logits.float()
        maps = self.processor.post_process_semantic_segmentation(out, target_sizes=[im.shape[:2] for im in images])
        return [m.cpu().numpy().astype(np.uint8) for m in maps]
