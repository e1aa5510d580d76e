"""The stage-1 (Latent Structural Diffusion) training config: generic sections plus the model and objective."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from humanverse.config_base import Section
from humanverse.train.common.config import DataConfig, EMAConfig, LoopConfig, OptimConfig
from humanverse.train.common.text_encoder import TextEncoderConfig


class LSDModelConfig(Section):
    base: str | None = None
    """SD-2-base in diffusers folder layout (unet/, vae/): a path (absolute or under the models directory) or
    hf:stabilityai/stable-diffusion-2-base already in the local HF cache. Loaded with local_files_only."""
    unet: dict[str, Any] | None = None
    """UNet2DConditionModel config for a randomly initialised model, used only when base is null."""
    vae: dict[str, Any] | None = None
    """AutoencoderKL config for a random VAE, used only when base is null."""

    @model_validator(mode="after")
    def _one_source(self) -> "LSDModelConfig":
        if self.base is None and (self.unet is None or self.vae is None):
            raise ValueError("set model.base (an SD-2-base folder) or both model.unet and model.vae configs")
        if self.base is not None and (self.unet is not None or self.vae is not None):
            raise ValueError("model.unet / model.vae configs are only for random init; remove them or model.base")
        return self


class LSDObjectiveConfig(Section):
    MODALITIES: ClassVar[tuple[str, ...]] = ("rgb", "depth", "normal")
    """The expert branches this objective trains (a subclass with another tuple is another joint model, e.g.
    the hand generator's rgb + mask, humanverse/train/hand/config.py)."""

    text_dropout: float = Field(0.15, ge=0, le=1)
    """Probability that a sample's caption is replaced by "" (enables classifier-free guidance)."""
    pose_dropout: float = Field(0.15, ge=0, le=1)
    """Probability that a sample's pose latent is zeroed."""
    latent_stats_batches: int = Field(16, ge=1)
    """Batches (per process) used once per run to measure per-channel latent mean/std of each modality."""
    modality_weights: dict[str, float] = {"rgb": 1.0, "depth": 1.0, "normal": 1.0}
    modality_reduction: Literal["sum", "mean"] = "sum"
    """How the three weighted v-prediction losses combine: "sum" is the paper's objective (HyperHuman eq. 3
    sums the RGB, depth and normal terms); "mean" divides by the summed weights (1/3 of the gradient, the
    trainer's earlier choice). With AdamW the two differ mainly in how often max_grad_norm clips."""

    @model_validator(mode="after")
    def _known_modalities(self) -> "LSDObjectiveConfig":
        if set(self.modality_weights) != set(self.MODALITIES):
            raise ValueError(f"modality_weights needs exactly {', '.join(self.MODALITIES)}")
        return self


class LSDConfig(Section):
    model: LSDModelConfig
    text_encoder: TextEncoderConfig = TextEncoderConfig()
    objective: LSDObjectiveConfig = LSDObjectiveConfig()
    data: DataConfig = DataConfig()
    optim: OptimConfig = OptimConfig()
    loop: LoopConfig = LoopConfig()
    ema: EMAConfig = EMAConfig()
