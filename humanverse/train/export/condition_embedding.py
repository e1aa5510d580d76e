"""The refiner's condition embedders as a standalone diffusers model: the part of the refiner that
ControlNetModel does not have. An export stores it next to the ControlNet trunk (refiner_export.py); the
user sets it as the trunk's `controlnet_cond_embedding`."""

from __future__ import annotations

import torch
from diffusers import ConfigMixin, ModelMixin
from diffusers.configuration_utils import register_to_config

from humanverse.train.refiner.embedder import SummedConditionEmbedding


class StructureConditionEmbedding(ModelMixin, ConfigMixin):
    """Pose, depth and normal maps (channels concatenated in name order) to ControlNet's first features."""

    @register_to_config
    def __init__(self, conditions: dict[str, int], out_channels: int, channels=(16, 32, 96, 256),
                 kernel_size: int = 4, strides=(1, 2, 2, 2)):
        super().__init__()
        self.embedding = SummedConditionEmbedding(dict(conditions), out_channels, tuple(channels), kernel_size,
                                                  tuple(strides))

    def forward(self, stacked: torch.Tensor) -> torch.Tensor:
        return self.embedding(stacked)
