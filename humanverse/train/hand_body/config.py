"""The body outpainter's config (stage 2 of "Giving a Hand", arXiv 2403.10731): a frozen inpainting diffusion
model (SD-2-inpainting's layout) plus a trainable ControlNet copy of its encoder on the full-body skeleton."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from humanverse.config_base import Section
from humanverse.train.common.config import EMAConfig, LoopConfig, OptimConfig
from humanverse.train.hand.config import HandDataConfig
from humanverse.train.refiner.config import ConditionEmbedderConfig


class RandomInpaintBaseConfig(Section):
    """Configs of a random SD-2-inpainting-shaped base (tiny preset, tests), written once in the published
    folder layout and loaded like the real one."""

    unet: dict[str, Any]
    """diffusers UNet2DConditionModel config; in_channels must be 9 (noisy 4 + mask 1 + masked image 4)."""
    vae: dict[str, Any]
    text_encoder: dict[str, Any]
    """transformers CLIPTextConfig fields (SD-2's OpenCLIP ViT-H text tower, as diffusers converts it)."""


class HandBodyModelConfig(Section):
    base: str | None = None
    """SD-2-inpainting in diffusers folder layout (unet/, vae/, text_encoder/, tokenizer/): a path (absolute or
    under the models directory) or hf:stabilityai/stable-diffusion-2-inpainting in the local HF cache."""
    random_base: RandomInpaintBaseConfig | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "HandBodyModelConfig":
        if (self.base is None) == (self.random_base is None):
            raise ValueError("set exactly one of model.base (an inpainting base folder) or model.random_base")
        if self.random_base is not None and self.random_base.unet.get("in_channels") != 9:
            raise ValueError("model.random_base.unet.in_channels must be 9 (an inpainting UNet)")
        return self


class HandBodyObjectiveConfig(Section):
    text_dropout: float = Field(0.1, ge=0, le=1)
    """Probability that a caption is replaced by "" (classifier-free guidance on the text)."""
    pose_dropout: float = Field(0.0, ge=0, le=1)
    """Probability that the skeleton map is zeroed; 0 by default, the body stage always has a skeleton."""
    keep_dropout: float = Field(0.0, ge=0, le=1)
    """Probability that a sample's kept region (its hands) is dropped: everything is painted, from the skeleton
    and the caption alone (SD inpainting's own recipe masks everything in 25% of its samples). With the hands
    always there, they tell the frame as well as the skeleton does and the ControlNet learns little from the
    skeleton (bench/LEARNING.md, hand-body conditioning). 0 by default: the stage as it was."""


class HandBodyConfig(Section):
    model: HandBodyModelConfig
    condition_embedder: ConditionEmbedderConfig = ConditionEmbedderConfig(conditions={"pose": 3})
    objective: HandBodyObjectiveConfig = HandBodyObjectiveConfig()
    data: HandDataConfig = HandDataConfig(resolution=512, crop_scale=(1.0, 1.0))
    optim: OptimConfig = OptimConfig()
    loop: LoopConfig = LoopConfig()
    ema: EMAConfig = EMAConfig()

    @model_validator(mode="after")
    def _pose_only(self) -> "HandBodyConfig":
        if dict(self.condition_embedder.conditions) != {"pose": 3}:
            raise ValueError("the body outpainter is conditioned on the skeleton only: conditions must be {pose: 3}")
        return self
