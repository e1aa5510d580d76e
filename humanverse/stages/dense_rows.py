"""Backend rows several stages share: Omnidata DPT (depth and normals, one checkpoint each) and Sapiens2 (one
HF folder per task: pose, depth, normals, parts, matting). Each table names its own config keys."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from humanverse.models.files import locate
from humanverse.core.stage import Stage
from humanverse.stages.backend_table import Backend


def build_tiny_omnidata(root: Path):
    """Depth and normal checkpoints at once: both tables' omnidata rows name this one build."""
    from humanverse.models.dense import omnidata

    return omnidata.build_demo_weights(root)


def omnidata_row(task: Literal["depth", "normal"], registry: str, weights: str, arch: str, resize: str) -> Backend:
    """weights, arch, resize: the config keys of the checkpoint path, the architecture and the resize mode."""

    def load(cfg, files: list[Path], stage: Stage):
        from humanverse.models.dense.omnidata import OmnidataPredictor

        return OmnidataPredictor(files[0], task, getattr(cfg, arch), stage.use_device(), getattr(cfg, resize))

    return Backend(
        "omnidata", (registry,), weights=lambda c: getattr(c, weights),
        files=lambda c, d: [locate(getattr(c, weights), [], d)], load=load,
        label=lambda c: f"omnidata-{getattr(c, arch)}-{task}-v2", shown=lambda c: getattr(c, weights), demo="random",
        demo_build=("depth + normal (tiny Omnidata DPT)", build_tiny_omnidata),
    )


def sapiens_files(weights: str):
    """Files of the Sapiens2 HF folder at config key `weights`: config.json first (its parent is the folder)."""

    def files(cfg, models_dir: str | None) -> list[Path]:
        from humanverse.models.sapiens.loader import folder_files

        return folder_files(getattr(cfg, weights), models_dir)
    return files


def sapiens_row(registry: str, weights: str, arch: str, label: str, load, shown=None) -> Backend:
    """weights, arch: config keys; label: the model name after the arch (e.g. 'normal'); load as a row's;
    shown: what the banner says (default: the weights spec)."""
    return Backend(
        "sapiens", (registry,), weights=lambda c: getattr(c, weights), files=sapiens_files(weights), load=load,
        label=lambda c: f"{getattr(c, arch)}-{label}", shown=shown or (lambda c: getattr(c, weights)), demo="random",
        tiny=lambda c: getattr(c, arch) == "sapiens2-tiny",
    )
