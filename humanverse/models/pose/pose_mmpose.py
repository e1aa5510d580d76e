"""The paper's pose backend: ViTPose whole-body run by mmpose 1.1 (installed by scripts/install_mmpose.sh).

mmpose builds the network from our config and we load the published ViTPose checkpoint into it (converted
on load); cropping and decoding are the shared ones in pose_decode, so this class only makes heatmaps.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from humanverse.core.device import autocast_dtype
from humanverse.models.pose.vitpose_checkpoint import load_into, write_published
from humanverse.models.pose.vitpose_config import mmpose_config

DEMO_WEIGHTS = "vitpose/vitpose-tiny-wholebody.pth"


def build_mmpose_model(arch: str, input_size: tuple[int, int] = (256, 192), device: str = "cpu",
                       empty: bool = False):
    """An mmpose TopdownPoseEstimator for `arch` in eval mode: random weights, or with `empty` parameters on
    the meta device (buffers real) for a checkpoint to be assigned into; that skips ViTPose-H's random
    initialisation (5 of 6 s of its build on the benchmark machine)."""
    try:
        from mmpose.apis import init_model
    except ImportError as exc:
        raise ImportError(
            "pose backend 'mmpose' needs MMPose: run scripts/install_mmpose.sh <venv>/bin/pip "
            "(or use backend 'onnx')"
        ) from exc
    if not empty:
        return init_model(mmpose_config(arch, input_size), None, device=device)
    from accelerate import init_empty_weights

    with init_empty_weights(include_buffers=False):
        return init_model(mmpose_config(arch, input_size), None, device=None)  # meta parameters stay put


class MMPoseHeatmaps:
    """Normalised crops (N x 3 x H x W float32) -> whole-body heatmaps (N x 133 x H/4 x W/4)."""

    def __init__(self, arch: str, weights: str | Path, input_size: tuple[int, int] = (256, 192), device: str = "cpu"):
        self.device = device
        self.model = build_mmpose_model(arch, input_size, empty=True)
        load_into(self.model, weights, assign=True)
        self.model.to(device).eval()
        self.dtype = autocast_dtype(device)

    @torch.inference_mode()
    def __call__(self, crops: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(crops)).to(self.device)
        with torch.autocast(device_type="cuda", dtype=self.dtype, enabled=self.device == "cuda"):
            heatmaps = self.model._forward(x)
        return heatmaps.float().cpu().numpy()


def build_demo_weights(target_dir: Path, arch: str = "tiny", input_size: tuple[int, int] = (256, 192)) -> Path:
    """Random ViTPose whole-body weights in the authors' published layout, at target_dir/DEMO_WEIGHTS."""
    torch.manual_seed(0)
    model = build_mmpose_model(arch, input_size)
    for m in model.modules():  # non-trivial BN statistics, so that loading them is actually checked
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    with torch.no_grad():
        model.backbone.pos_embed.normal_(std=0.02)
    path = Path(target_dir) / (DEMO_WEIGHTS if arch == "tiny" else f"vitpose/{arch}-wholebody-random.pth")
    write_published(model.state_dict(), path, note=f"random {arch} weights for tests and the demo preset")
    return path
