"""Stage 1's joint RGB+depth+normal denoising loop in plain torch + diffusers, with no other humanverse import.

Shared by humanverse's own sampler (lsd/sample.py) and the exported diffusers pipeline, whose source file
is generated from this module (export/module_source.inline_sources): one loop, not a copy per consumer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
import torch.nn.functional as F


def from_rgb_scale(stats: dict, name: str, latents: torch.Tensor) -> torch.Tensor:
    """Undo the map of a modality's latents onto the RGB latents' per-channel mean/std (RGB passes through).
    stats: {"mean": {modality: [per channel]}, "std": {...}} as latent_stats.json holds them."""
    if name == "rgb":
        return latents

    def shaped(key: str, modality: str) -> torch.Tensor:
        return torch.tensor(stats[key][modality], dtype=latents.dtype, device=latents.device).view(1, -1, 1, 1)

    return (latents - shaped("mean", "rgb")) / shaped("std", "rgb") * shaped("std", name) + shaped("mean", name)


def rescale_guidance(guided: torch.Tensor, conditional: torch.Tensor, factor: float) -> torch.Tensor:
    """Match the guided prediction's std to the conditional one's (fixes over-exposure at SNR 0)."""
    dims = list(range(1, guided.ndim))
    rescaled = guided * (conditional.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True))
    return factor * rescaled + (1 - factor) * guided


@torch.no_grad()
def denoise_joint(unet, scheduler, pose_latent: torch.Tensor, context: torch.Tensor, negative_context: torch.Tensor | None,
                  num_inference_steps: int, guidance_scale: float, guidance_rescale: float,
                  generator: torch.Generator | None,
                  progress: Callable[[Iterable], Iterable] | None = None) -> dict[str, torch.Tensor]:
    """All branches from noise to clean latents at one shared timestep (in the RGB latent scale).
    Classifier-free guidance on the text only (the pose stays in both halves); negative_context is needed
    when guidance_scale != 1. Initial noise: one float32 CPU draw per branch, in unet.branches order.
    progress wraps the timesteps (a progress bar: the pipeline's own, tqdm, ...)."""
    device, dtype = pose_latent.device, pose_latent.dtype
    batch = pose_latent.shape[0]
    use_cfg = guidance_scale != 1.0
    if use_cfg:
        context = torch.cat([negative_context, context])
        pose_latent = torch.cat([pose_latent, pose_latent])
    scheduler.set_timesteps(num_inference_steps, device=device)
    shape = (batch, unet.config.latent_channels, *pose_latent.shape[-2:])
    latents = {name: torch.randn(shape, generator=generator, dtype=torch.float32).to(device, dtype)
               for name in unet.branches}
    for t in (progress or iter)(scheduler.timesteps):
        inputs = {k: torch.cat([v, v]) if use_cfg else v for k, v in latents.items()}
        predicted = unet(inputs, pose_latent, t.expand(batch * (2 if use_cfg else 1)), context)
        for name, v in predicted.items():
            if use_cfg:
                uncond, cond = v.chunk(2)
                v = uncond + guidance_scale * (cond - uncond)
                if guidance_rescale > 0:
                    v = rescale_guidance(v, cond, guidance_rescale)
            latents[name] = scheduler.step(v, t, latents[name]).prev_sample
    return latents


@torch.no_grad()
def decode_joint(vae, stats: dict, latents: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Clean latents (RGB scale) -> per branch: "rgb" (B,3,H,W) in [0,1], "normal" (B,3,H,W) unit vectors, any
    other ("depth", the hand model's "mask") (B,1,H,W) in [0,1]; "latents": each branch's latents in its own
    VAE scale."""
    latents = {name: from_rgb_scale(stats, name, z) for name, z in latents.items()}
    out = {}
    for name, z in latents.items():
        decoded = vae.decode(z / vae.config.scaling_factor).sample.float().clamp(-1, 1)
        if name == "rgb":
            out[name] = (decoded + 1) / 2
        elif name == "normal":
            out[name] = F.normalize(decoded, dim=1, eps=1e-6)
        else:  # a one-channel map decoded through the RGB VAE: the mean of its channels
            out[name] = (decoded.mean(dim=1, keepdim=True) + 1) / 2
    return {**out, "latents": latents}
