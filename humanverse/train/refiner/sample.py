"""Stage-2 sampling: caption + pose / depth / normal maps -> an image at the refiner's resolution (1024²).

DDIM on SDXL's own epsilon schedule with classifier-free guidance on the text only: the condition maps stay
in both halves of the guidance batch, so guidance sharpens the caption while the structure is always
followed (the refiner saw "" with maps during training, thanks to dropout). A condition the caller leaves
out is fed as zeros, exactly what training's map dropout showed the model.

With `init_image` and strength < 1 the sampler starts from that image noised to the matching step
(SDEdit), which lets the two-stage sampler keep stage 1's colours and layout; strength 1 (the default, as in
HyperHuman, where the refiner composes the predicted conditions) starts from pure noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from humanverse.step_progress import steps
from humanverse.train.common.vae import encode_images
from humanverse.train.common.checkpoints import read_run_record, trained_checkpoint, weights_folder
from humanverse.train.common.noise_schedule import SDXL_SCHEDULE_CONFIG, sampling_scheduler
from humanverse.train.refiner.components import (
    SDXLBase,
    base_folder,
    encode_prompt,
    load_sdxl_base,
    micro_conditioning,
)
from humanverse.train.refiner.config import RefinerConfig
from humanverse.train.refiner.model import StructureControlNet, refined_noise_prediction


@dataclass
class RefinerModel:
    controlnet: StructureControlNet
    base: SDXLBase
    cfg: RefinerConfig
    checkpoint: Path

    @property
    def resolution(self) -> int:
        return self.cfg.data.resolution

    @property
    def condition_names(self) -> list[str]:
        return self.controlnet.condition_names


def load_refiner(run_dir_or_checkpoint: str | Path, use_ema: bool = True, device: str = "cpu",
                 dtype: torch.dtype = torch.float32) -> RefinerModel:
    """A trained refiner from a run directory (its latest checkpoint) or one checkpoint folder."""
    path = Path(run_dir_or_checkpoint)
    checkpoint = trained_checkpoint(path)
    run_dir = checkpoint.parent
    cfg = RefinerConfig.model_validate(read_run_record(run_dir)["config"])
    folder = weights_folder(checkpoint, "controlnet", use_ema)
    controlnet = StructureControlNet.from_pretrained(folder, local_files_only=True, torch_dtype=dtype)
    controlnet.to(device).eval()
    base = load_sdxl_base(base_folder(cfg, run_dir, create=False)).to(device, dtype)
    return RefinerModel(controlnet, base, cfg, checkpoint)


@torch.no_grad()
def sample_refiner(
    model: RefinerModel,
    prompts: list[str],
    conditions: dict[str, torch.Tensor],
    num_inference_steps: int = 50,
    guidance_scale: float = 7.5,
    negative_prompt: str = "",
    conditioning_scale: float = 1.0,
    init_image: torch.Tensor | None = None,
    strength: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """conditions: name -> (B, C, R, R) at the refiner's resolution R, in the training ranges (pose and depth
    in [0, 1], normal in [-1, 1]); missing names are zeros. init_image: (B, 3, R, R) in [0, 1].
    Returns (B, 3, R, R) in [0, 1]."""
    if not 0 < strength <= 1:
        raise ValueError("strength must be in (0, 1]")
    controlnet, base = model.controlnet, model.base
    device, dtype = base.unet.device, base.unet.dtype
    batch, size = len(prompts), model.resolution
    unknown = set(conditions) - set(model.condition_names)
    if unknown:
        raise ValueError(f"this refiner takes {model.condition_names}, not {sorted(unknown)}")
    maps = {}
    for name, channels in controlnet.condition_embedding.conditions.items():
        value = conditions.get(name)
        if value is None:
            value = torch.zeros(batch, channels, size, size)
        if tuple(value.shape) != (batch, channels, size, size):
            raise ValueError(f"condition {name!r} must be {(batch, channels, size, size)}, got {tuple(value.shape)}")
        maps[name] = value.to(device, dtype)

    context, pooled = encode_prompt(base, prompts, device)
    use_cfg = guidance_scale != 1.0
    if use_cfg:
        negative, negative_pooled = encode_prompt(base, [negative_prompt] * batch, device)
        context, pooled = torch.cat([negative, context]), torch.cat([negative_pooled, pooled])
        maps = {name: torch.cat([value, value]) for name, value in maps.items()}
    rows = context.shape[0]
    time_ids = micro_conditioning(torch.full((rows, 2), float(size)), torch.zeros(rows, 2), size)
    added = {"text_embeds": pooled.to(dtype), "time_ids": time_ids.to(device, dtype)}
    context = context.to(dtype)

    scheduler = sampling_scheduler(SDXL_SCHEDULE_CONFIG)
    scheduler.set_timesteps(num_inference_steps, device=device)
    timesteps = scheduler.timesteps[num_inference_steps - max(1, round(num_inference_steps * strength)):]
    shape = (batch, base.unet.config.in_channels, size // base.vae_scale, size // base.vae_scale)
    noise = torch.randn(shape, generator=generator, dtype=torch.float32).to(device, dtype)
    if init_image is not None and strength < 1:
        clean = encode_images(base.vae, init_image.to(device) * 2 - 1, generator).to(dtype)
        latents = scheduler.add_noise(clean, noise, timesteps[:1])
    else:
        latents = noise * scheduler.init_noise_sigma

    for t in steps(timesteps, "refiner"):
        inputs = torch.cat([latents, latents]) if use_cfg else latents
        eps = refined_noise_prediction(base.unet, controlnet, inputs, t.expand(rows), context, added, maps,
                                       conditioning_scale)
        if use_cfg:
            uncond, cond = eps.chunk(2)
            eps = uncond + guidance_scale * (cond - uncond)
        latents = scheduler.step(eps, t, latents).prev_sample

    vae = base.vae
    image = vae.decode(latents.to(vae.dtype) / vae.config.scaling_factor).sample.float().clamp(-1, 1)
    return (image + 1) / 2
