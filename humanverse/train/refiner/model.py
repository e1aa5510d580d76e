"""The refiner's trainable part: a ControlNet copy of SDXL's encoder, steered by pose, depth and normal maps.

Why diffusers' ControlNetModel. HyperHuman's refiner is "SDXL base frozen with a trainable copy of its
encoder", which is exactly ControlNet: ControlNetModel.from_unet copies SDXL's conv_in, time and text_time
(pooled text + size/crop micro-conditioning) embeddings, down blocks and mid block, and adds the
zero-initialised 1x1 convs whose outputs SDXL's UNet takes as `down_block_additional_residuals` /
`mid_block_additional_residual`. Reusing it inherits its tested SDXL support, gradient checkpointing and
conditioning_scale. ControlNet-XS (ControlNetXSAdapter) is a different design (a small network exchanging
features with the base at every block), not a copy of the encoder, so it is not what the paper trained.

The one part we replace is ControlNet's single condition embedding: ours is one embedder per map, summed
(refiner_embedder.py). The wrapper exists so that the replacement is part of the saved config and a
checkpoint folder loads back with `StructureControlNet.from_pretrained` and nothing else.

Shapes: the maps come at image resolution (1024² for the real preset) and the embedders downscale them by the
VAE factor, onto the latent grid where ControlNet adds them to its conv_in output.
"""

from __future__ import annotations

import torch
from diffusers import ConfigMixin, ControlNetModel, ModelMixin, UNet2DConditionModel
from diffusers.configuration_utils import register_to_config

from humanverse.train.refiner.config import ConditionEmbedderConfig
from humanverse.train.refiner.embedder import SummedConditionEmbedding

EMBEDDING_PREFIX = "controlnet_cond_embedding."


class StructureControlNet(ModelMixin, ConfigMixin):
    _supports_gradient_checkpointing = True

    @register_to_config
    def __init__(
        self,
        controlnet_config: dict | None = None,
        conditions: dict[str, int] | None = None,
        embedder_channels: tuple[int, ...] = (16, 32, 96, 256),
        embedder_kernel_size: int = 4,
        embedder_strides: tuple[int, ...] = (1, 2, 2, 2),
    ):
        super().__init__()
        cfg = {k: v for k, v in (controlnet_config or {}).items() if not k.startswith("_")}
        self.controlnet = ControlNetModel.from_config(cfg)
        self.controlnet.controlnet_cond_embedding = SummedConditionEmbedding(
            conditions or {"pose": 3, "depth": 1, "normal": 3},
            out_channels=self.controlnet.conv_in.out_channels,
            channels=tuple(embedder_channels),
            kernel_size=embedder_kernel_size,
            strides=tuple(embedder_strides),
        )

    @property
    def condition_embedding(self) -> SummedConditionEmbedding:
        return self.controlnet.controlnet_cond_embedding

    @property
    def condition_names(self) -> list[str]:
        return list(self.condition_embedding.conditions)

    @classmethod
    def from_unet(cls, unet: UNet2DConditionModel, embedder: ConditionEmbedderConfig,
                  load_weights: bool = True) -> StructureControlNet:
        """A ControlNet whose encoder starts as a copy of `unet`'s (its conv_in, embeddings, down and mid blocks)."""
        copy = ControlNetModel.from_unet(unet, load_weights_from_unet=load_weights)
        model = cls(
            controlnet_config={k: v for k, v in copy.config.items() if not k.startswith("_")},
            conditions=dict(embedder.conditions),
            embedder_channels=tuple(embedder.channels),
            embedder_kernel_size=embedder.kernel_size,
            embedder_strides=tuple(embedder.strides),
        )
        if load_weights:
            weights = {k: v for k, v in copy.state_dict().items() if not k.startswith(EMBEDDING_PREFIX)}
            missing, unexpected = model.controlnet.load_state_dict(weights, strict=False)
            if unexpected or any(not k.startswith(EMBEDDING_PREFIX) for k in missing):
                raise RuntimeError(f"ControlNet copy did not fit: missing {missing[:5]}, unexpected {unexpected[:5]}")
        del copy
        return model

    def stack(self, maps: dict[str, torch.Tensor]) -> torch.Tensor:
        """The condition maps, channels concatenated in the order the embedders expect."""
        missing = [name for name in self.condition_names if name not in maps]
        if missing:
            raise KeyError(f"missing condition maps {missing}; pass zeros for a condition you leave out")
        return torch.cat([maps[name] for name in self.condition_names], dim=1)

    def forward(
        self,
        noisy_latents: torch.Tensor,
        timesteps: torch.Tensor,
        encoder_hidden_states: torch.Tensor,
        added_cond_kwargs: dict[str, torch.Tensor],
        conditions: dict[str, torch.Tensor],
        conditioning_scale: float = 1.0,
    ) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Residuals for the frozen UNet's skip connections (one per down-block output) and its mid block."""
        latent_size = noisy_latents.shape[-2:]
        stacked = self.stack(conditions).to(noisy_latents.dtype)
        expected = tuple(s * self.condition_embedding.downscale for s in latent_size)
        if tuple(stacked.shape[-2:]) != expected:
            raise ValueError(f"condition maps are {tuple(stacked.shape[-2:])}, expected {expected} "
                             f"(latent {tuple(latent_size)} x {self.condition_embedding.downscale})")
        down, mid = self.controlnet(
            noisy_latents,
            timesteps,
            encoder_hidden_states=encoder_hidden_states,
            controlnet_cond=stacked,
            conditioning_scale=conditioning_scale,
            added_cond_kwargs=added_cond_kwargs,
            return_dict=False,
        )
        return list(down), mid


def refined_noise_prediction(
    unet: UNet2DConditionModel,
    controlnet: StructureControlNet,
    noisy_latents: torch.Tensor,
    timesteps: torch.Tensor,
    encoder_hidden_states: torch.Tensor,
    added_cond_kwargs: dict[str, torch.Tensor],
    conditions: dict[str, torch.Tensor],
    conditioning_scale: float = 1.0,
) -> torch.Tensor:
    """The refiner's epsilon prediction: the frozen SDXL UNet plus the ControlNet's residuals."""
    down, mid = controlnet(noisy_latents, timesteps, encoder_hidden_states, added_cond_kwargs, conditions,
                           conditioning_scale)
    dtype = unet.dtype
    return unet(
        noisy_latents.to(dtype),
        timesteps,
        encoder_hidden_states=encoder_hidden_states.to(dtype),
        added_cond_kwargs={k: v.to(dtype) for k, v in added_cond_kwargs.items()},
        down_block_additional_residuals=[r.to(dtype) for r in down],
        mid_block_additional_residual=mid.to(dtype),
        return_dict=False,
    )[0]
