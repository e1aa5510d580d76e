"""Sampling the body outpainter: skeleton + caption + a canvas holding the hands -> the whole image, with the
hands fused in by sequential mask expansion (train/common/mask_blending.py).

DDIM on the inpainting base's own epsilon process, classifier-free guidance on the text (the skeleton and the
canvas stay in both halves). The UNet's fill-mask channel follows the current keep region (1 - keep_i), so the
model is told to paint exactly where its latents are its own; the masked-image latents are the canvas's
throughout, the hands' appearance it blends towards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from humanverse.step_progress import steps
from humanverse.train.common.checkpoints import read_run_record, trained_checkpoint, weights_folder
from humanverse.train.common.noise_schedule import SD_INPAINT_SCHEDULE_CONFIG, sampling_scheduler
from humanverse.train.hand_body.components import (
    InpaintBase,
    base_folder,
    encode_prompt,
    inpaint_inputs,
    load_inpaint_base,
)
from humanverse.train.hand_body.config import HandBodyConfig
from humanverse.train.refiner.model import StructureControlNet, refined_noise_prediction
from humanverse.train.common.mask_blending import BlendSchedule, fuse, keep_masks


@dataclass
class BodyModel:
    controlnet: StructureControlNet
    base: InpaintBase
    cfg: HandBodyConfig
    checkpoint: Path

    @property
    def resolution(self) -> int:
        return self.cfg.data.resolution


def load_body_model(run_dir_or_checkpoint: str | Path, use_ema: bool = True, device: str = "cpu",
                    dtype: torch.dtype = torch.float32) -> BodyModel:
    """A trained body outpainter from a run directory (its latest checkpoint) or one checkpoint folder."""
    path = Path(run_dir_or_checkpoint)
    checkpoint = trained_checkpoint(path)
    run_dir = checkpoint.parent
    record = read_run_record(run_dir)
    if record.get("stage") != "hand-body":
        raise ValueError(f"{run_dir} is a {record.get('stage')!r} run, not a hand-body run")
    cfg = HandBodyConfig.model_validate(record["config"])
    folder = weights_folder(checkpoint, "controlnet", use_ema)
    controlnet = StructureControlNet.from_pretrained(folder, local_files_only=True, torch_dtype=dtype)
    controlnet.to(device).eval()
    base = load_inpaint_base(base_folder(cfg, run_dir, create=False)).to(device, dtype)
    return BodyModel(controlnet, base, cfg, checkpoint)


@torch.no_grad()
def outpaint_body(model: BodyModel, prompt: str, pose: torch.Tensor, canvas: torch.Tensor, keep: torch.Tensor,
                  schedule: BlendSchedule, num_inference_steps: int = 50, guidance_scale: float = 7.5,
                  negative_prompt: str = "", conditioning_scale: float = 1.0,
                  generator: torch.Generator | None = None) -> torch.Tensor:
    """pose (1,3,S,S) in [0, 1]; canvas (1,3,S,S) in [0, 1] with the hands placed; keep (1,1,S,S) 0/1 hand
    pixels. Returns the image (1,3,S,S) in [0, 1]."""
    base, device = model.base, model.base.vae.device
    dtype = base.unet.dtype
    image = (canvas.to(device, torch.float32) * 2 - 1) * keep.to(device)
    fill0, masked = inpaint_inputs(base.vae, image.to(base.vae.dtype), keep.to(device, base.vae.dtype), sample=False)
    stage1 = masked.float()  # the canvas latent: hands, grey elsewhere (what the keep region is fused from)
    keeps = keep_masks(1 - fill0.float(), schedule, num_inference_steps)
    stop = schedule.stop_step(num_inference_steps)

    context = encode_prompt(base, [prompt], device).to(dtype)
    use_cfg = guidance_scale != 1.0
    if use_cfg:
        context = torch.cat([encode_prompt(base, [negative_prompt], device).to(dtype), context])
    batch = 2 if use_cfg else 1
    pose = pose.to(device, dtype).expand(batch, -1, -1, -1)
    masked = masked.to(dtype).expand(batch, -1, -1, -1)

    scheduler = sampling_scheduler(SD_INPAINT_SCHEDULE_CONFIG)
    scheduler.set_timesteps(num_inference_steps, device=device)
    noise = torch.randn(stage1.shape, generator=generator, dtype=torch.float32).to(device)
    latents = noise * scheduler.init_noise_sigma
    for i, t in enumerate(steps(scheduler.timesteps, "body")):
        if i < stop:
            latents = fuse(latents, scheduler.add_noise(stage1, noise, t.reshape(1)), keeps[i])
        fill = 1 - keeps[min(i, max(stop - 1, 0))] if stop > 0 else fill0.float()
        model_input = torch.cat([latents, fill.to(latents.dtype), masked.float()[:1]], dim=1).to(dtype)
        model_input = model_input.expand(batch, -1, -1, -1)
        eps = refined_noise_prediction(base.unet, model.controlnet, model_input, t.expand(batch), context, {},
                                       {"pose": pose}, conditioning_scale).float()
        if use_cfg:
            uncond, cond = eps.chunk(2)
            eps = uncond + guidance_scale * (cond - uncond)
        latents = scheduler.step(eps, t, latents).prev_sample
    decoded = base.vae.decode((latents / base.vae.config.scaling_factor).to(base.vae.dtype)).sample.float()
    return ((decoded.clamp(-1, 1) + 1) / 2).cpu()
