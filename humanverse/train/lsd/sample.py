"""Stage-1 sampling: caption + pose map -> RGB image, depth and surface normals, denoised together.

The two-stage sampler calls `sample_lsd` and feeds its depth/normal (and the pose) to the refiner. DDIM
with trailing timesteps on the zero-terminal-SNR schedule, v-prediction, classifier-free guidance on the
text (the pose stays in both branches of the guidance, as the refiner also keeps it), optional guidance
rescale (Lin et al. 2023 recommend 0.7 with zero-SNR models).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from humanverse.train.common.checkpoints import read_state, resolve_resume
from humanverse.train.lsd.latent_stats import LatentStats
from humanverse.train.lsd.components import Stage1Frozen, encode_text, load_frozen
from humanverse.train.lsd.config import LSDConfig
from humanverse.train.lsd.model import ExpertBranchUNet
from humanverse.train.common.noise_schedule import sampling_scheduler


@dataclass
class Stage1Model:
    unet: ExpertBranchUNet
    frozen: Stage1Frozen
    stats: LatentStats


@dataclass
class Stage1Output:
    rgb: torch.Tensor  # (B, 3, H, W) in [0, 1]
    depth: torch.Tensor  # (B, 1, H, W) relative inverse depth in [0, 1]
    normal: torch.Tensor  # (B, 3, H, W) unit normals, components in [-1, 1]
    latents: dict[str, torch.Tensor]  # final latents in each modality's own VAE scale


def load_stage1(run_dir_or_checkpoint: str | Path, use_ema: bool = True, device: str = "cpu",
                dtype: torch.dtype = torch.float32) -> Stage1Model:
    """A trained stage-1 model from a run directory (its latest checkpoint) or one checkpoint folder."""
    path = Path(run_dir_or_checkpoint)
    checkpoint = path if (path / "trainer_state.json").is_file() else resolve_resume(path, "latest")
    if checkpoint is None:
        raise FileNotFoundError(f"no checkpoint under {path}")
    run_dir = checkpoint.parent
    cfg = LSDConfig.model_validate(json.loads((run_dir / "run.json").read_text())["config"])
    folder = checkpoint / ("unet_ema" if use_ema and (checkpoint / "unet_ema").is_dir() else "unet")
    unet = ExpertBranchUNet.from_pretrained(folder, local_files_only=True).to(device, dtype).eval()
    frozen = load_frozen(cfg, run_dir, create=False)
    frozen.vae.to(device, dtype)
    frozen.text_encoder.to(device, dtype)
    return Stage1Model(unet, frozen, LatentStats.from_dict(read_state(checkpoint)["latent_stats"]))


def _rescale_guidance(guided: torch.Tensor, conditional: torch.Tensor, factor: float) -> torch.Tensor:
    """Match the guided prediction's std to the conditional one's (fixes over-exposure at SNR 0)."""
    dims = list(range(1, guided.ndim))
    rescaled = guided * (conditional.std(dim=dims, keepdim=True) / guided.std(dim=dims, keepdim=True))
    return factor * rescaled + (1 - factor) * guided


@torch.no_grad()
def sample_lsd(
    model: Stage1Model,
    prompts: list[str],
    pose_maps: torch.Tensor,
    num_inference_steps: int = 50,
    guidance_scale: float = 7.5,
    guidance_rescale: float = 0.7,
    negative_prompt: str = "",
    generator: torch.Generator | None = None,
) -> Stage1Output:
    """pose_maps: (B, 3, H, W) in [0, 1] as rendered by pose_render (H, W multiples of the latent scale)."""
    unet, frozen = model.unet, model.frozen
    device, dtype = frozen.vae.device, frozen.vae.dtype
    if pose_maps.shape[0] != len(prompts):
        raise ValueError("one pose map per prompt")
    pose_latent = frozen.vae.encode(pose_maps.to(device, dtype) * 2 - 1).latent_dist.mode()
    pose_latent = pose_latent * frozen.vae.config.scaling_factor
    use_cfg = guidance_scale != 1.0
    context = encode_text(frozen, prompts, device).to(dtype)
    if use_cfg:
        negative = encode_text(frozen, [negative_prompt] * len(prompts), device).to(dtype)
        context = torch.cat([negative, context])
        pose_latent = torch.cat([pose_latent, pose_latent])

    scheduler = sampling_scheduler()
    scheduler.set_timesteps(num_inference_steps, device=device)
    shape = (len(prompts), unet.config.latent_channels, *pose_latent.shape[-2:])
    latents = {
        name: torch.randn(shape, generator=generator, dtype=torch.float32).to(device, dtype)
        for name in unet.branches
    }
    for t in scheduler.timesteps:
        inputs = {k: torch.cat([v, v]) if use_cfg else v for k, v in latents.items()}
        predicted = unet(inputs, pose_latent, t.expand(shape[0] * (2 if use_cfg else 1)), context)
        for name, v in predicted.items():
            if use_cfg:
                uncond, cond = v.chunk(2)
                v = uncond + guidance_scale * (cond - uncond)
                if guidance_rescale > 0:
                    v = _rescale_guidance(v, cond, guidance_rescale)
            latents[name] = scheduler.step(v, t, latents[name]).prev_sample

    latents = {name: model.stats.denormalize(name, z) for name, z in latents.items()}
    decoded = {
        name: frozen.vae.decode(z / frozen.vae.config.scaling_factor).sample.float().clamp(-1, 1)
        for name, z in latents.items()
    }
    normal = F.normalize(decoded["normal"], dim=1, eps=1e-6)
    return Stage1Output(
        rgb=(decoded["rgb"] + 1) / 2,
        depth=((decoded["depth"].mean(dim=1, keepdim=True)) + 1) / 2,
        normal=normal,
        latents=latents,
    )
