"""Images to the latents every method trains on, through the frozen VAE (shared by all methods)."""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL


def encode_images(vae: AutoencoderKL, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Images in [-1, 1] to scaled latents (the scale SD's UNet was trained on)."""
    posterior = vae.encode(images.to(vae.dtype)).latent_dist
    return posterior.sample(generator=generator) * vae.config.scaling_factor
