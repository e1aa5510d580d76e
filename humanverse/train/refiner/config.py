"""The stage-2 (Structure-Guided Refiner) training config: generic sections plus the model and objective."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from humanverse.config_base import Section
from humanverse.train.common.config import DataConfig, EMAConfig, LoopConfig, OptimConfig, TimestepSamplingConfig

# The maps shard_data.decode_sample produces, with their channel counts. A later condition (e.g. a hand crop,
# arXiv 2403.10731) is one more entry here plus the batch key that carries it.
DEFAULT_CONDITIONS = {"pose": 3, "depth": 1, "normal": 3}


class RandomBaseConfig(Section):
    """Configs of a randomly initialised SDXL-shaped base (tiny preset, tests): diffusers / transformers
    config dicts, written once in SDXL's published folder layout and then loaded like the real one."""

    unet: dict[str, Any]
    vae: dict[str, Any]
    text_encoder: dict[str, Any]
    """transformers CLIPTextConfig fields (SDXL's CLIP ViT-L text tower, penultimate states)."""
    text_encoder_2: dict[str, Any]
    """transformers CLIPTextConfig fields for the CLIPTextModelWithProjection (OpenCLIP bigG in SDXL)."""


class RefinerModelConfig(Section):
    base: str | None = None
    """SDXL base in diffusers folder layout (unet/, vae/, text_encoder/, text_encoder_2/, tokenizer/,
    tokenizer_2/): a path (absolute or under the models directory) or hf:stabilityai/stable-diffusion-xl-base-1.0
    already in the local HF cache. Loaded with local_files_only."""
    random_base: RandomBaseConfig | None = None
    """Used only when base is null: build a random SDXL-shaped base (saved under RUN_DIR/frozen/sdxl_base)."""

    @model_validator(mode="after")
    def _one_source(self) -> RefinerModelConfig:
        if (self.base is None) == (self.random_base is None):
            raise ValueError("set exactly one of model.base (an SDXL base folder) or model.random_base")
        return self


class ConditionEmbedderConfig(Section):
    """One embedder per condition map; their outputs are summed (HyperHuman §3.3, see refiner_embedder.py)."""

    conditions: dict[str, int] = dict(DEFAULT_CONDITIONS)
    """Condition name -> input channels. Names are batch keys; maps are stacked in name order."""
    channels: tuple[int, ...] = (16, 32, 96, 256)
    kernel_size: int = Field(4, ge=1)
    strides: tuple[int, ...] = (1, 2, 2, 2)
    """The product must equal the VAE's downscale (8 for SDXL) so the embedding lands on the latent grid."""

    @model_validator(mode="after")
    def _consistent(self) -> ConditionEmbedderConfig:
        if not self.conditions:
            raise ValueError("condition_embedder.conditions needs at least one condition")
        if len(self.channels) != len(self.strides):
            raise ValueError("condition_embedder.channels and .strides need one entry per conv")
        if any(c < 1 for c in self.conditions.values()) or any(s < 1 for s in self.strides):
            raise ValueError("condition channels and strides must be positive")
        return self


class RefinerObjectiveConfig(Section):
    text_dropout: float = Field(0.5, ge=0, le=1)
    """Probability that a sample's caption is replaced by "" (HyperHuman: 50%)."""
    condition_dropout: float = Field(0.5, ge=0, le=1)
    """Probability, drawn independently per map and per sample, that a condition map is replaced by zeros."""
    timesteps: TimestepSamplingConfig = TimestepSamplingConfig()
    """Which training timesteps are drawn how often; default uniform (SDXL's own training)."""


class RefinerConfig(Section):
    model: RefinerModelConfig
    condition_embedder: ConditionEmbedderConfig = ConditionEmbedderConfig()
    objective: RefinerObjectiveConfig = RefinerObjectiveConfig()
    data: DataConfig = DataConfig(resolution=1024)
    optim: OptimConfig = OptimConfig()
    loop: LoopConfig = LoopConfig()
    ema: EMAConfig = EMAConfig()

    @model_validator(mode="after")
    def _conditions_come_from_the_data(self) -> RefinerConfig:
        for name, channels in self.condition_embedder.conditions.items():
            if DEFAULT_CONDITIONS.get(name) != channels:
                raise ValueError(f"condition {name!r} with {channels} channels is not what the shard loader "
                                 f"provides ({DEFAULT_CONDITIONS})")
        return self
