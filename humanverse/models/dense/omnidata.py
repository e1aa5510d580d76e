"""Omnidata DPT-hybrid depth and surface normals from the published v2 checkpoints.

Files: omnidata_dpt_depth_v2.ckpt and omnidata_dpt_normal_v2.ckpt (EPFL-VILAB/omnidata), PyTorch-Lightning
checkpoints whose `state_dict` keys carry a `model.` prefix over MiDaS's DPTDepthModel (see dpt_hybrid).

Semantics follow the authors' demo (omnidata_tools/torch/demo.py at f69ff3a):
  - depth: input normalised with mean = std = 0.5; the output d is z-buffer depth up to scale and shift,
    clamped to [0, 1]. The demo shows 1 - d: it showed 1 / (d + 1e-6) only in the commit that added the v2
    models (40098a4) and changed to 1 - d four days later (92dd37d, "demo updated"). We return 1 - d, a nearness
    map (near = large) in [0, 1], like the stage's other depth maps in order but affine in depth, not 1/depth.
    1 / (d + 1e-6) reached 1e6 wherever the head output 0, and the per-image min-max into 16 bits then
    flattened every other pixel to ~0.
  - preprocessing: the demo resizes the shortest side to 384 and centre-crops 384 x 384. A stage must give a
    value for every pixel of the whole image, so we letterbox instead (`pad`, configurable): for square images
    the two are the same; for others the long side, not the short one, becomes 384, and nothing is cropped.
  - normals: input in [0, 1] (no normalisation); output clamped to [0, 1] and n = 2 * out - 1 in the
    2D3DS camera frame (+x right, +y down, +z towards the camera; EPFL-VILAB/omnidata issue #13). We flip y
    to store the frame in NORMAL_CONVENTION (x right, y up, z towards the camera) and renormalise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from humanverse.models.dense.dense_io import back_to_images, to_square_batch
from humanverse.models.dense.resize_mode import ResizeMode
from humanverse.core.device import autocast_dtype
from humanverse.models.dense.dpt_hybrid import IMAGE_SIZE, DPTHybrid

DEPTH_FILE = "omnidata_dpt_depth_v2.ckpt"
NORMAL_FILE = "omnidata_dpt_normal_v2.ckpt"
DEMO_DIR = "omnidata-tiny"


IMPORT_HINT = "convert the published .ckpt with `humanverse models import omnidata-{task}-v2 FILE`"


def read_state_dict(path: str | Path) -> dict:
    """The DPTDepthModel state dict: the .safetensors `models import` writes, or a Lightning .ckpt read as data
    (the restricted unpickler: PL 1.1.8's class-keyed callbacks and Namespace hparams never run)."""
    if Path(path).suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    from humanverse.models.importers.lightning import import_lightning

    state, _info = import_lightning(path)
    return state


def load_omnidata(path: str | Path, task: str, arch: str = "dpt-hybrid", device: str = "cpu") -> DPTHybrid:
    model = DPTHybrid(arch, out_channels=3 if task == "normal" else 1)
    hint = IMPORT_HINT.format(task=task)
    try:
        state = read_state_dict(path)
    except Exception as exc:  # noqa: BLE001 - unreadable: say how to get the right file
        raise ValueError(f"{path}: missing or wrong format for an Omnidata checkpoint ({exc}); {hint}") from exc
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ValueError(f"{path}: not an Omnidata DPT-hybrid {task} checkpoint for arch {arch!r}: {exc}; {hint}") from exc
    return model.to(device).eval()


class OmnidataPredictor:
    """RGB uint8 images -> per-image maps at their own size: inverse depth (H x W) or unit normals (H x W x 3)."""

    def __init__(self, path: str | Path, task: str, arch: str = "dpt-hybrid", device: str = "cpu", resize: ResizeMode = "pad"):
        if task not in ("depth", "normal"):
            raise ValueError(f"task must be depth or normal, not {task!r}")
        self.task, self.device, self.resize = task, device, resize
        self.model = load_omnidata(path, task, arch, device)
        self.dtype = autocast_dtype(device)

    @torch.inference_mode()
    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        mean, std = (0.5, 0.5) if self.task == "depth" else (0.0, 1.0)
        x, regions = to_square_batch(images, IMAGE_SIZE, self.resize, mean, std)
        with torch.autocast(device_type="cuda", dtype=self.dtype, enabled=self.device == "cuda"):
            out = self.model(x.to(self.device)).float().clamp(0, 1)
        maps = back_to_images(out, regions, [im.shape[:2] for im in images], IMAGE_SIZE)
        if self.task == "depth":
            return [depth_to_nearness(m[..., 0]) for m in maps]
        return [omnidata_to_convention(m) for m in maps]


def depth_to_nearness(depth01: np.ndarray) -> np.ndarray:
    """The authors' demo conversion for the v2 depth model: 1 - clamp(d, 0, 1)."""
    return 1.0 - np.clip(depth01, 0.0, 1.0)


def omnidata_to_convention(out01: np.ndarray) -> np.ndarray:
    """Omnidata output in [0, 1] (2D3DS frame) -> unit normals in NORMAL_CONVENTION (x right, y up, z to camera)."""
    n = out01.astype(np.float32) * 2.0 - 1.0
    n[..., 1] *= -1.0
    norm = np.linalg.norm(n, axis=-1, keepdims=True)
    fallback = np.array([0.0, 0.0, 1.0], dtype=np.float32)
    return np.where(norm > 1e-6, n / np.maximum(norm, 1e-6), fallback)


def write_checkpoint(model: DPTHybrid, path: str | Path) -> Path:
    """Save as the authors do: a Lightning checkpoint with `model.`-prefixed keys."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"epoch": 0, "global_step": 0, "pytorch-lightning_version": "1.5.8", "state_dict": state}, path)
    return path


def build_demo_weights(target_dir: Path, arch: str = "tiny") -> None:
    """Random Omnidata depth and normal checkpoints (published format) under target_dir/DEMO_DIR."""
    for task, name in (("depth", DEPTH_FILE), ("normal", NORMAL_FILE)):
        torch.manual_seed(1 if task == "depth" else 2)
        model = DPTHybrid(arch, out_channels=3 if task == "normal" else 1)
        with torch.no_grad():  # keep the random head's final ReLU from zeroing everything out
            model.scratch.output_conv[4].bias.fill_(0.5)
        write_checkpoint(model, Path(target_dir) / (DEMO_DIR if arch == "tiny" else f"omnidata-{arch}") / name)
