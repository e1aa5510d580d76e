"""The two stages' diffusion processes, and noising several targets at one shared timestep.

Stage 1 (SCHEDULE_CONFIG): v-prediction on a zero-terminal-SNR schedule, one timestep shared by all targets.

Zero terminal SNR (Lin et al. 2023, "Common Diffusion Noise Schedules and Sample Steps are Flawed") makes
the last training step pure noise, which is what sampling starts from; it needs v-prediction because
epsilon is unlearnable at SNR 0. The RGB, depth and normal latents are noised at the SAME timestep so the
shared trunk, which fuses the three branches, sees one noise level (HyperHuman §3.2).

Stage 2 (SDXL_SCHEDULE_CONFIG): the refiner keeps SDXL-base's own epsilon-prediction schedule, because its
frozen base UNet was trained on exactly that process and the ControlNet copy only steers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.training_utils import compute_density_for_timestep_sampling

from humanverse.train.common.config import TimestepSamplingConfig

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


# stabilityai/stable-diffusion-xl-base-1.0 scheduler/scheduler_config.json (the process fields).
SDXL_SCHEDULE_CONFIG = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    prediction_type="epsilon",
    timestep_spacing="leading",
    steps_offset=1,
    clip_sample=False,
)


# stabilityai/stable-diffusion-2-inpainting scheduler/scheduler_config.json: the same epsilon-prediction
# process as SDXL's (scaled_linear 0.00085..0.012, 1000 steps, steps_offset 1); the hand-first body outpainter
# keeps its frozen base's process.
SD_INPAINT_SCHEDULE_CONFIG = SDXL_SCHEDULE_CONFIG


def training_scheduler(config: dict = SCHEDULE_CONFIG) -> DDPMScheduler:
    return DDPMScheduler(**config)


def sampling_scheduler(config: dict = SCHEDULE_CONFIG) -> DDIMScheduler:
    """DDIM on the same process; stage 1's trailing spacing makes the first step the SNR-0 step it trained on."""
    return DDIMScheduler(**config, set_alpha_to_one=False)


@dataclass
class NoisedTargets:
    timesteps: torch.Tensor  # (B,), shared by every modality
    noisy: dict[str, torch.Tensor]
    velocity: dict[str, torch.Tensor]  # the v-prediction targets
    noise: dict[str, torch.Tensor] = field(default_factory=dict)  # the epsilon-prediction targets


def draw_timesteps(
    num_train_timesteps: int, batch: int, sampling: TimestepSamplingConfig | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """(batch,) int64 training timesteps on the CPU. Uniform is one `torch.randint` draw, as it always was (a
    run's stream of draws is unchanged); otherwise diffusers' SD3 density gives u in (0, 1), mapped to
    floor(u * T), from the same generator."""
    if sampling is None or sampling.scheme == "uniform":
        return torch.randint(0, num_train_timesteps, (batch,), generator=generator, device="cpu")
    u = compute_density_for_timestep_sampling(sampling.scheme, batch, logit_mean=sampling.logit_mean,
                                              logit_std=sampling.logit_std, device="cpu", generator=generator)
    return (u * num_train_timesteps).long().clamp_(0, num_train_timesteps - 1)


def noise_all_at_one_timestep(
    scheduler: DDPMScheduler, latents: dict[str, torch.Tensor], generator: torch.Generator | None = None,
    sampling: TimestepSamplingConfig | None = None,
) -> NoisedTargets:
    """Draw one timestep per sample (`sampling`, default uniform) and independent noise per modality; noise every
    modality at that step."""
    first = next(iter(latents.values()))
    batch = first.shape[0]
    timesteps = draw_timesteps(scheduler.config.num_train_timesteps, batch, sampling, generator).to(first.device)
    noisy, velocity, noises = {}, {}, {}
    for name, clean in latents.items():
        noise = torch.randn(clean.shape, generator=generator, dtype=clean.dtype, device="cpu").to(clean.device)
        noisy[name] = scheduler.add_noise(clean, noise, timesteps)
        velocity[name] = scheduler.get_velocity(clean, noise, timesteps)
        noises[name] = noise
    return NoisedTargets(timesteps, noisy, velocity, noises)
