"""Sampling the hand generator: caption + 21-point hand skeleton -> hand image and its mask, denoised jointly."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from humanverse.train.hand.config import HandConfig
from humanverse.train.lsd.sample import Stage1Model, joint_latents, load_stage1


@dataclass
class HandOutput:
    rgb: torch.Tensor  # (B, 3, S, S) in [0, 1]
    mask: torch.Tensor  # (B, 1, S, S) soft mask in [0, 1] (the mean of the decoded mask's channels)


def load_hand_model(run: str | Path, use_ema: bool = True, device: str = "cpu",
                    dtype: torch.dtype = torch.float32) -> Stage1Model:
    model = load_stage1(run, use_ema, device, dtype, config_cls=HandConfig)
    if set(model.unet.branches) != {"rgb", "mask"}:
        raise ValueError(f"{run} is not a hand generator (branches {list(model.unet.branches)})")
    return model


@torch.no_grad()
def sample_hand(model: Stage1Model, prompts: list[str], skeletons: torch.Tensor, num_inference_steps: int = 50,
                guidance_scale: float = 7.5, guidance_rescale: float = 0.7, negative_prompt: str = "",
                generator: torch.Generator | None = None) -> HandOutput:
    """skeletons: (B, 3, S, S) in [0, 1] drawn by hand_geometry.render_hand at the run's resolution S."""
    latents = joint_latents(model, prompts, skeletons, num_inference_steps, guidance_scale, guidance_rescale,
                            negative_prompt, generator, None)
    vae = model.frozen.vae
    stats = model.stats
    decoded = {name: vae.decode(stats.denormalize(name, z) / vae.config.scaling_factor).sample.float().clamp(-1, 1)
               for name, z in latents.items()}
    return HandOutput(rgb=(decoded["rgb"] + 1) / 2, mask=(decoded["mask"].mean(dim=1, keepdim=True) + 1) / 2)
