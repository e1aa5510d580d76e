"""Stage 1's diffusion process: v-prediction on a zero-terminal-SNR schedule, one timestep shared by all targets.

Zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed") makes
the last training step pure noise, which is what sampling starts from; it needs v-prediction because
epsilon is unlearnable at SNR 0. The RGB, depth and normal latents are noised at the SAME timestep so the
shared trunk, which fuses the three branches, sees one noise level (HyperHuman §3.2).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from diffusers import DDIMScheduler, DDPMScheduler

# SD-2.0-base's schedule, rescaled to zero terminal SNR.
SCHEDULE_CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    prediction_type="v_prediction",
    rescale_betas_zero_snr=True,
    timestep_spacing="trailing",
    clip_sample=False,
)


def training_scheduler() -> DDPMScheduler:
    return DDPMScheduler(**SCHEDULE_CONFIG)


def sampling_scheduler() -> DDIMScheduler:
    """DDIM with trailing spacing so the first sampling step is the SNR-0 step the model was trained on."""
    return DDIMScheduler(**SCHEDULE_CONFIG, set_alpha_to_one=False)


@dataclass
class NoisedTargets:
    timesteps: torch.Tensor  # (B,), shared by every modality
    noisy: dict[str, torch.Tensor]
    velocity: dict[str, torch.Tensor]  # the v-prediction targets


def noise_all_at_one_timestep(
    scheduler: DDPMScheduler, latents: dict[str, torch.Tensor], generator: torch.Generator | None = None
) -> NoisedTargets:
    """Draw one timestep per sample and independent noise per modality; noise every modality at that step."""
    first = next(iter(latents.values()))
    batch = first.shape[0]
    timesteps = torch.randint(
        0, scheduler.config.num_train_timesteps, (batch,), generator=generator, device="cpu"
    ).to(first.device)
    noisy, velocity = {}, {}
    for name, clean in latents.items():
        noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype, device="cpu").to(clean.device)
        noisy[name] = scheduler.add_noise(clean, noise, timesteps)
        velocity[name] = scheduler.get_velocity(clean, noise, timesteps)
    return NoisedTargets(timesteps, noisy, velocity)
