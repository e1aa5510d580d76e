"""MiDaS DPT-hybrid depth (Intel/dpt-hybrid-midas) through transformers' DPTForDepthEstimation.

Loads the HF layout (config.json + model.safetensors or pytorch_model.bin, preprocessor_config.json) from a
local directory or the HF cache. The output is relative inverse depth (MiDaS's representation), returned at
each image's own size.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from humanverse.models.dense.dense_io import back_to_images, to_square_batch
from humanverse.models.dense.resize_mode import ResizeMode
from humanverse.core.device import autocast_dtype
from humanverse.models.files import MissingModelFiles

HF_ID = "Intel/dpt-hybrid-midas"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
DEMO_DIR = "dpt-hybrid-midas-tiny"


def check_files(path: Path) -> None:
    if not any((path / f).exists() for f in WEIGHT_FILES):
        raise MissingModelFiles(f"MiDaS DPT: missing {' or '.join(WEIGHT_FILES)} under {path}")


def dpt_config(arch: str):
    """The DPT-hybrid config: 'dpt-hybrid' as Intel/dpt-hybrid-midas, 'tiny' for tests and the demo."""
    from transformers import BitConfig, DPTConfig

    hybrid = dict(is_hybrid=True, readout_type="project", reassemble_factors=[1, 1, 1, 0.5],
                  use_batch_norm_in_fusion_residual=False, image_size=384, patch_size=16)
    if arch == "dpt-hybrid":
        return DPTConfig(**hybrid, neck_hidden_sizes=[256, 512, 768, 768], backbone_featmap_shape=[1, 1024, 24, 24],
                         backbone_out_indices=[2, 5, 8, 11])
    if arch == "tiny":
        bit = BitConfig(layer_type="bottleneck", depths=[1, 1, 1], hidden_sizes=[16, 32, 64], embedding_size=8,
                        global_padding="same", out_features=["stage1", "stage2", "stage3"],
                        embedding_dynamic_padding=True, num_groups=4)
        return DPTConfig(**hybrid, backbone_config=bit, hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                         intermediate_size=64, backbone_out_indices=[0, 1, 2, 3], neck_hidden_sizes=[16, 32, 32, 32],
                         backbone_featmap_shape=[1, 64, 24, 24], fusion_hidden_size=16, head_hidden_size=8)
    raise ValueError(f"unknown DPT arch {arch!r}")


class MidasDepth:
    """RGB uint8 images -> relative inverse depth (H x W float32) per image."""

    def __init__(self, path: str | Path, device: str = "cpu", resize: ResizeMode = "stretch"):
        from transformers import DPTForDepthEstimation

        path = Path(path)
        check_files(path)
        self.device, self.resize = device, resize
        self.dtype = autocast_dtype(device)
        self.model = DPTForDepthEstimation.from_pretrained(str(path), local_files_only=True).to(device).eval()
        pre = json.loads((path / "preprocessor_config.json").read_text()) if (path / "preprocessor_config.json").exists() else {}
        size = pre.get("size", {"height": 384, "width": 384})
        self.size = int(size.get("height", 384)) if isinstance(size, dict) else int(size)
        self.mean = pre.get("image_mean", [0.5, 0.5, 0.5])
        self.std = pre.get("image_std", [0.5, 0.5, 0.5])

    @torch.inference_mode()
    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        x, regions = to_square_batch(images, self.size, self.resize, self.mean, self.std)
        with torch.autocast(device_type="cuda", dtype=self.dtype, enabled=self.device == "cuda"):
            depth = self.model(pixel_values=x.to(self.device)).predicted_depth.float()
        maps = back_to_images(depth[:, None], regions, [im.shape[:2] for im in images], self.size)
        return [m[..., 0] for m in maps]


def build_demo_weights(target_dir: Path, arch: str = "tiny") -> None:
    """Random DPT-hybrid weights saved in the HF layout (config, safetensors, preprocessor) under target_dir."""
    from transformers import DPTForDepthEstimation, DPTImageProcessor

    torch.manual_seed(0)
    out = Path(target_dir) / (DEMO_DIR if arch == "tiny" else f"dpt-hybrid-midas-{arch}-random")
    model = DPTForDepthEstimation(dpt_config(arch))
    with torch.no_grad():  # keep the random head's final ReLU from zeroing everything out
        model.head.head[4].bias.fill_(0.5)
    model.save_pretrained(str(out))
    DPTImageProcessor(size={"height": 384, "width": 384}, keep_aspect_ratio=False,
                      image_mean=[0.5] * 3, image_std=[0.5] * 3).save_pretrained(str(out))
