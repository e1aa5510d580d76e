"""ViTPose whole-body architectures and the mmpose config that builds them.

The config file (configs/vitpose_wholebody.py) is the full ViTPose-H one; the architecture named in our
PoseConfig picks the backbone and head widths, so the tiny test model is built by the same code path as the
real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CONFIG_FILE = Path(__file__).parent / "configs" / "vitpose_wholebody.py"


@dataclass(frozen=True)
class ViTPoseArch:
    embed_dims: int
    num_layers: int
    num_heads: int
    feedforward_channels: int
    deconv_channels: int


ARCHS: dict[str, ViTPoseArch] = {
    "vitpose-h": ViTPoseArch(1280, 32, 16, 5120, 256),
    "vitpose-b": ViTPoseArch(768, 12, 12, 3072, 256),
    "tiny": ViTPoseArch(32, 2, 2, 64, 16),
}


def get_arch(name: str) -> ViTPoseArch:
    if name not in ARCHS:
        raise ValueError(f"unknown ViTPose arch {name!r}; known: {', '.join(ARCHS)}")
    return ARCHS[name]


def mmpose_config(arch: str, input_size: tuple[int, int] = (256, 192)):
    """The mmengine Config for `arch` at input_size (height, width); heatmaps are input_size / 4."""
    from mmengine.config import Config

    a = get_arch(arch)
    cfg = Config.fromfile(str(CONFIG_FILE))
    h, w = input_size
    cfg.codec = dict(type="MSRAHeatmap", input_size=(w, h), heatmap_size=(w // 4, h // 4), sigma=2)
    cfg.model.head.decoder = cfg.codec
    cfg.model.backbone.arch = dict(
        embed_dims=a.embed_dims,
        num_layers=a.num_layers,
        num_heads=a.num_heads,
        feedforward_channels=a.feedforward_channels,
    )
    cfg.model.backbone.img_size = (h, w)
    cfg.model.head.in_channels = a.embed_dims
    cfg.model.head.deconv_out_channels = (a.deconv_channels, a.deconv_channels)
    cfg.test_dataloader.dataset.pipeline[2]["input_size"] = (w, h)
    return cfg
