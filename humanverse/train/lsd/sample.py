"""Stage-1 sampling: caption + pose map -> RGB image, depth and surface normals, denoised together.

The two-stage sampler calls `sample_lsd` and feeds its depth/normal (and the pose) to the refiner. DDIM
with trailing timesteps on the zero-terminal-SNR schedule, v-prediction, classifier-free guidance on the
text (the pose stays in both branches of the guidance, as the refiner also keeps it), optional guidance
rescale (Lin et al. 2023 recommend 0.7 with zero-SNR models).

"No pose" is exactly training's unconditional: training drops the pose by zeroing the pose *latent*
(lsd_train.LSDObjective), so sampling without a pose feeds a zero latent, not the VAE encoding of a black
image (which is a non-zero latent the model never saw as "no pose").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from humanverse.train.common.checkpoints import read_run_record, read_state, trained_checkpoint, weights_folder
from humanverse.train.lsd.latent_stats import LatentStats
from humanverse.train.lsd.components import Stage1Frozen, encode_text, load_frozen
from humanverse.train.lsd.config import LSDConfig
from humanverse.train.lsd.joint_denoise import decode_joint, denoise_joint
from humanverse.train.lsd.model import ExpertBranchUNet
from humanverse.train.common.noise_schedule import sampling_scheduler
from humanverse.step_progress import steps


@dataclass
class Stage1Model:
    unet: ExpertBranchUNet
    frozen: Stage1Frozen
    stats: LatentStats
    cfg: LSDConfig | None = None
    """The run's config (data.resolution, data.keypoint_score_threshold: how its pose maps were drawn)."""


@dataclass
class Stage1Output:
    rgb: torch.Tensor  # (B, 3, H, W) in [0, 1]
    depth: torch.Tensor  # (B, 1, H, W) relative inverse depth in [0, 1]
    normal: torch.Tensor  # (B, 3, H, W) unit normals, components in [-1, 1]
    latents: dict[str, torch.Tensor]  # final latents in each modality's own VAE scale


def load_stage1(run_dir_or_checkpoint: str | Path, use_ema: bool = True, device: str = "cpu",
                dtype: torch.dtype = torch.float32, config_cls: type[LSDConfig] = LSDConfig) -> Stage1Model:
    """A trained stage-1 model from a run directory (its latest checkpoint) or one checkpoint folder;
    config_cls reads the run's config (LSDConfig, or a subclass such as the hand generator's)."""
    path = Path(run_dir_or_checkpoint)
    checkpoint = trained_checkpoint(path)
    run_dir = checkpoint.parent
    cfg = config_cls.model_validate(read_run_record(run_dir)["config"])
    folder = weights_folder(checkpoint, "unet", use_ema)
    unet = ExpertBranchUNet.from_pretrained(folder, local_files_only=True).to(device, dtype).eval()
    frozen = load_frozen(cfg, run_dir, create=False)
    frozen.vae.to(device, dtype)
    frozen.text_encoder.to(device, dtype)
    return Stage1Model(unet, frozen, LatentStats.from_dict(read_state(checkpoint)["latent_stats"]), cfg)


def no_pose_latent(model: Stage1Model, batch: int, size: int | None = None) -> torch.Tensor:
    """The pose latent training uses for a dropped pose: zeros on the latent grid of a size x size image."""
    if size is None:
        if model.cfg is None:
            raise ValueError("give the image size for a pose-free sample (the model carries no run config)")
        size = model.cfg.data.resolution
    scale = 2 ** (len(model.frozen.vae.config.block_out_channels) - 1)
    if size % scale:
        raise ValueError(f"image size {size} is not a multiple of the VAE's downscale {scale}")
    return torch.zeros(batch, model.frozen.vae.config.latent_channels, size // scale, size // scale)


@torch.no_grad()
def sample_lsd(
    model: Stage1Model,
    prompts: list[str],
    pose_maps: torch.Tensor | None,
    num_inference_steps: int = 50,
    guidance_scale: float = 7.5,
    guidance_rescale: float = 0.7,
    negative_prompt: str = "",
    generator: torch.Generator | None = None,
    size: int | None = None,
) -> Stage1Output:
    """pose_maps: (B, 3, H, W) in [0, 1] as rendered by pose_render (H, W multiples of the latent scale), or
    None for "no pose": a zero pose latent of size x size pixels (default: the run's training resolution)."""
    latents = joint_latents(model, prompts, pose_maps, num_inference_steps, guidance_scale, guidance_rescale,
                            negative_prompt, generator, size)
    out = decode_joint(model.frozen.vae, model.stats.to_dict(), latents)
    return Stage1Output(rgb=out["rgb"], depth=out["depth"], normal=out["normal"], latents=out["latents"])


@torch.no_grad()
def joint_latents(model: Stage1Model, prompts: list[str], pose_maps: torch.Tensor | None, num_inference_steps: int,
                  guidance_scale: float, guidance_rescale: float, negative_prompt: str,
                  generator: torch.Generator | None, size: int | None) -> dict[str, torch.Tensor]:
    """Every branch's clean latents (RGB latent scale) for these prompts and pose maps: any expert-branch
    model's sampling up to the decode (HyperHuman's stage 1, the hand generator)."""
    unet, frozen = model.unet, model.frozen
    device, dtype = frozen.vae.device, frozen.vae.dtype
    if pose_maps is None:
        pose_latent = no_pose_latent(model, len(prompts), size).to(device, dtype)
    else:
        if pose_maps.shape[0] != len(prompts):
            raise ValueError("one pose map per prompt")
        pose_latent = frozen.vae.encode(pose_maps.to(device, dtype) * 2 - 1).latent_dist.mode()
        pose_latent = pose_latent * frozen.vae.config.scaling_factor
    context = encode_text(frozen, prompts, device).to(dtype)
    negative = None
    if guidance_scale != 1.0:
        negative = encode_text(frozen, [negative_prompt] * len(prompts), device).to(dtype)
    label = "hand" if "mask" in unet.branches else "stage 1"
    return denoise_joint(unet, sampling_scheduler(), pose_latent, context, negative, num_inference_steps,
                         guidance_scale, guidance_rescale, generator, lambda timesteps: steps(timesteps, label))
