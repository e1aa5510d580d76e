"""Sequential mask expansion: how the hand-first sampler fuses stage 1's hands into the body's denoising.

"Giving a Hand" (arXiv 2403.10731) preserves the generated hands by fusing the latents of both stages while
the outpainted region expands step by step. The paper gives no schedule; ours (docs/hands.md) is:

  keep_0        the hands' mask on the latent grid (1 = hand, from stage 1)
  keep_i        keep_0 eroded by r_i = floor(i * erosion_per_step) latent pixels, for steps i < stop_step
                (a (2r+1)² square structuring element; the image border does not erode)
  keep_i = 0    for i >= stop_step: the last steps are the body model's alone and harmonise the seams

and at the start of each denoising step i (before the model sees the latents)

  z_i <- keep_i * noised(z_hands, t_i) + (1 - keep_i) * z_i

where noised(z_hands, t_i) is stage 1's canvas latent noised to step i's timestep with the run's initial
noise. So at step 0 the keep region is exactly stage 1's noised latent, the region the body model paints grows
by one latent pixel every 1 / erosion_per_step steps until it covers the hand borders, and from stop_step on
nothing is taken from stage 1. Pure tensor code, no model: the known-answer tests pin it down.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class BlendSchedule:
    erosion_per_step: float = 0.1
    """Latent pixels the keep region loses per denoising step (0.1: one latent pixel, 8 image pixels, every
    10 steps)."""
    stop: float = 0.6
    """Fraction of the denoising steps that fuse stage 1's latents; stop_step = round(stop x steps)."""

    def __post_init__(self) -> None:
        if self.erosion_per_step < 0:
            raise ValueError("erosion_per_step must be >= 0")
        if not 0 <= self.stop <= 1:
            raise ValueError("stop must be a fraction of the steps in [0, 1]")

    def stop_step(self, num_steps: int) -> int:
        return int(round(self.stop * num_steps))

    def radius(self, step: int) -> int:
        return int(math.floor(step * self.erosion_per_step + 1e-9))


def erode(mask: torch.Tensor, radius: int) -> torch.Tensor:
    """Binary erosion of a (B, 1, h, w) 0/1 mask by a (2r+1)² square; pixels beyond the border count as kept."""
    if radius <= 0:
        return mask.clone()
    outside = F.max_pool2d(1 - mask.float(), kernel_size=2 * radius + 1, stride=1, padding=radius)
    return (1 - outside).to(mask.dtype)


def keep_masks(keep: torch.Tensor, schedule: BlendSchedule, num_steps: int) -> list[torch.Tensor]:
    """keep_i for every step (zeros from stop_step on)."""
    stop = schedule.stop_step(num_steps)
    return [erode(keep, schedule.radius(i)) if i < stop else torch.zeros_like(keep) for i in range(num_steps)]


def fuse(latents: torch.Tensor, stage1_noised: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
    """keep x stage 1's noised latents + (1 - keep) x the body model's latents (exact for a 0/1 keep)."""
    keep = keep.to(latents.dtype)
    return torch.where(keep > 0.5, stage1_noised.to(latents.dtype), latents)


def schedule_record(keep: torch.Tensor, schedule: BlendSchedule, num_steps: int) -> dict:
    """What sample.json records: the settings, the stop step and the keep region's size at every step."""
    masks = keep_masks(keep, schedule, num_steps)
    return {"erosion_per_step": schedule.erosion_per_step, "stop": schedule.stop,
            "stop_step": schedule.stop_step(num_steps), "radius": [schedule.radius(i) for i in range(num_steps)],
            "keep_latent_pixels": [int(m.sum().item()) for m in masks]}
