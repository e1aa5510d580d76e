"""The `sapiens` pose backend: Sapiens2ForPoseEstimation as a crops -> 308 Goliath heatmaps function.

Cropping, flip test and decoding are the shared top-down path (pose_topdown with the UDP codec that
Sapiens2 was trained with), so this class only turns normalised crops into heatmaps. The crops arrive
normalised with ImageNet mean/std (pose_decode.normalize_crops); the checkpoint's own preprocessor values
are applied instead when they differ.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from humanverse.core.device import autocast_dtype
from humanverse.models.sapiens.goliath_keypoints import GOLIATH_308
from humanverse.models.pose.pose_decode import IMAGENET_MEAN, IMAGENET_STD
from humanverse.models.sapiens.loader import load_sapiens


class SapiensHeatmaps:
    """Normalised crops (N x 3 x H x W float32) -> Goliath heatmaps (N x 308 x H/4 x W/4)."""

    def __init__(self, path: str | Path, input_size: tuple[int, int], device: str = "cpu"):
        self.device = device
        self.model, processor = load_sapiens("pose", path, device)
        if self.model.config.num_labels != len(GOLIATH_308):
            raise ValueError(f"{path}: {self.model.config.num_labels} keypoints, Sapiens2 pose has {len(GOLIATH_308)}")
        trained = (int(processor.size["height"]), int(processor.size["width"]))
        if tuple(input_size) != trained:
            raise ValueError(f"pose.input_size {tuple(input_size)} but {path} is preprocessed at {trained} (h, w)")
        mean = np.asarray(processor.image_mean, dtype=np.float32)
        std = np.asarray(processor.image_std, dtype=np.float32)
        # x_model = (x_imagenet * IM_STD + IM_MEAN - mean) / std, folded into one scale and shift
        self.scale = torch.from_numpy(IMAGENET_STD / std).reshape(1, 3, 1, 1)
        self.shift = torch.from_numpy((IMAGENET_MEAN - mean) / std).reshape(1, 3, 1, 1)
        self.dtype = autocast_dtype(device)

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(crops, dtype=np.float32)) * self.scale + self.shift
        with torch.autocast(device_type="cuda", dtype=self.dtype, enabled=self.device == "cuda"):
            heatmaps = self.model(pixel_values=x.to(self.device)).heatmaps
        return heatmaps.float().cpu().numpy()
