"""Config sections every trainer shares (data, optimiser, loop, EMA) and how a run's config is assembled.

A run's config is a bundled preset or a YAML file, then `--set a.b=c` overrides, validated by pydantic:
unknown keys and wrong types fail before any model is built, not an hour into a run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from humanverse.config_base import S, ConfigError, Section, load

PRESETS_DIR = Path(__file__).resolve().parents[2] / "presets"


class DataConfig(Section):
    """How shards become training samples (see shard_data.py)."""

    resolution: int = Field(512, ge=16)
    crop_scale: tuple[float, float] = (0.5, 1.0)
    """Fraction of the image area a random crop keeps; (1, 1) is a plain resize of the largest centred square."""
    crop_ratio: tuple[float, float] = (1.0, 1.0)
    """Aspect-ratio range (w/h) of the crop before it is resized to a square; 1 keeps people undistorted."""
    keypoint_score_threshold: float = Field(0.3, ge=0.0, le=1.0)
    batch_size: int = Field(4, ge=1)
    """Per device, per micro-step."""
    num_workers: int = Field(2, ge=0)
    shuffle_buffer: int = Field(1000, ge=0)
    """At most this many raw samples wait in each DataLoader worker's shuffle buffer (0 turns shuffling off)."""
    shuffle_buffer_mb: float = Field(256, gt=0)
    """...and at most this many MiB of their encoded bytes, per worker. Raw samples of 1024x768 photos with
    depth and normals are ~2 MB, so a count alone (2,000) would hold ~4 GB in every worker; the byte bound
    keeps a worker's steady RSS predictable (bench/RESULTS.md, data loader memory)."""
    max_image_pixels: int = Field(64_000_000, ge=1)
    """Decompression-bomb guard: images larger than this are skipped, not decoded."""
    keep_duplicates: bool = False
    """Also train on samples `humanverse dedup` marked as duplicates (skipped by default)."""

    @model_validator(mode="after")
    def _ranges_ordered(self) -> "DataConfig":
        for name in ("crop_scale", "crop_ratio"):
            lo, hi = getattr(self, name)
            if not 0 < lo <= hi:
                raise ValueError(f"{name} must satisfy 0 < min <= max, got {(lo, hi)}")
        if self.crop_scale[1] > 1:
            raise ValueError("crop_scale max must be <= 1")
        return self


class OptimConfig(Section):
    learning_rate: float = Field(1e-5, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    adam_beta1: float = 0.9
    adam_beta2: float = 0.999
    adam_epsilon: float = 1e-8
    max_grad_norm: float = Field(1.0, gt=0)
    lr_scheduler: Literal["constant", "constant_with_warmup", "linear", "cosine"] = "constant"
    lr_warmup_steps: int = Field(0, ge=0)


class TimestepSamplingConfig(Section):
    """How training draws each sample's timestep (noise_schedule.draw_timesteps). `uniform`: every step equally
    often, DDPM's and SDXL's own training. `logit_normal`: t / T = sigmoid(N(logit_mean, logit_std)), SD3's
    `weighting_scheme` (diffusers' `compute_density_for_timestep_sampling`); logit_mean > 0 draws high-noise
    steps more often, where a ControlNet decides the layout (logit_mean 1 puts 84% of the draws at t >= T/2)."""

    scheme: Literal["uniform", "logit_normal"] = "uniform"
    logit_mean: float | None = None
    """logit_normal only (default 0)."""
    logit_std: float | None = Field(None, gt=0)
    """logit_normal only (default 1)."""

    @model_validator(mode="before")
    @classmethod
    def _parameters_belong_to_the_scheme(cls, values):
        if not isinstance(values, dict):
            return values
        parameters = {key: values.get(key) for key in ("logit_mean", "logit_std")}
        if values.get("scheme", "uniform") == "uniform":
            if any(value is not None for value in parameters.values()):
                raise ValueError("logit_mean / logit_std only apply to scheme: logit_normal")
            return values
        defaults = {"logit_mean": 0.0, "logit_std": 1.0}
        return {**values, **{key: defaults[key] for key, value in parameters.items() if value is None}}


class LoopConfig(Section):
    """The generic training loop (loop.py): steps, precision, accumulation, checkpoints, logging."""

    max_steps: int = Field(100_000, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    mixed_precision: Literal["no", "fp16", "bf16"] = "no"
    gradient_checkpointing: bool = False
    allow_tf32: bool = True
    seed: int = 0
    checkpointing_steps: int = Field(1000, ge=1)
    checkpoints_total_limit: int | None = Field(None, ge=1)
    log_every: int = Field(10, ge=1)


class EMAConfig(Section):
    enabled: bool = True
    decay: float = Field(0.9999, gt=0, lt=1)
    update_after_step: int = Field(0, ge=0)
    use_warmup: bool = False
    """diffusers EMAModel's warm-up (inv_gamma / power); off keeps the paper's plain decay."""


def preset_path(name: str) -> Path:
    """A bundled preset by name: "lsd_tiny" and "train_lsd_tiny" both mean presets/train_lsd_tiny.yaml."""
    stem = name if name.startswith("train_") else f"train_{name}"
    path = PRESETS_DIR / f"{stem}.yaml"
    if not path.is_file():
        available = sorted(p.stem.removeprefix("train_") for p in PRESETS_DIR.glob("train_*.yaml"))
        raise ConfigError(f"no training preset {name!r}; available: {', '.join(available)}")
    return path


def load_config(
    cls: type[S], *, preset: str | None = None, file: str | Path | None = None, overrides: list[str] = ()
) -> S:
    """Build a validated config from exactly one of preset / file, then the overrides in order; errors
    name the key (config_base.load, the same loader as `curate`)."""
    if (preset is None) == (file is None):
        raise ConfigError("give exactly one of a preset name or a config file")
    return load(cls, preset_path(preset) if preset is not None else file, overrides)
