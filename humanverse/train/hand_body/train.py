"""Stage 2 of "Giving a Hand" (`humanverse train hand-body`): teach a skeleton ControlNet on a frozen inpainting
model to paint everything outside the hands, given the hands' pixels and masks.

A training sample is a whole image, its full-body skeleton (hands included) and `keep`, the hand pixels
(hand_samples.decode_body_with_hands). The inpainting UNet sees the noisy latents, the fill mask (1 outside the
hands) and the latents of the image with only the hands left; the ControlNet adds the skeleton. The loss is
the base's own epsilon objective over the whole latent (as SD-inpainting was trained). Checkpoints, resume,
EMA, logging and the run record are the shared machinery (train/common), as for the other methods.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from humanverse.train.common.accelerate_setup import (
    finish_run,
    main_process_first,
    make_ema,
    prepare_for_training,
    record_run,
    start_run,
    weight_dtype,
)
from humanverse.train.common.checkpoints import store_models_as_pretrained
from humanverse.train.common.loop import LoopResult, train_loop
from humanverse.train.common.noise_schedule import SD_INPAINT_SCHEDULE_CONFIG, noise_all_at_one_timestep, training_scheduler
from humanverse.train.common.shard_data import make_dataloader
from humanverse.train.common.vae import encode_images
from humanverse.train.hand.hand_samples import decode_body_with_hands
from humanverse.train.hand_body.components import (
    InpaintBase,
    base_folder,
    build_controlnet,
    encode_prompt,
    inpaint_inputs,
    load_inpaint_base,
)
from humanverse.train.hand_body.config import HandBodyConfig
from humanverse.train.refiner.dropout import drop_conditions
from humanverse.train.refiner.model import StructureControlNet, refined_noise_prediction

log = logging.getLogger(__name__)


class HandBodyObjective:
    """Epsilon-prediction loss of (frozen inpainting UNet + skeleton ControlNet), with text, skeleton and kept
    region dropout."""

    def __init__(self, controlnet: StructureControlNet, base: InpaintBase, cfg: HandBodyConfig, device):
        self.controlnet = controlnet
        self.base = base
        self.cfg = cfg
        self.scheduler = training_scheduler(SD_INPAINT_SCHEDULE_CONFIG)
        self.device = device

    def loss(self, batch: dict, generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        dropped = drop_conditions(batch["caption"], {"pose": batch["pose"]}, self.cfg.objective.text_dropout,
                                  self.cfg.objective.pose_dropout, generator)
        with torch.no_grad():
            latents = encode_images(self.base.vae, batch["image"], generator).float()
            keep = drop_keep(batch["keep"], self.cfg.objective.keep_dropout, generator)
            fill, masked = inpaint_inputs(self.base.vae, batch["image"], keep, True, generator)
            context = encode_prompt(self.base, dropped.captions, self.device)
        noised = noise_all_at_one_timestep(self.scheduler, {"rgb": latents}, generator)
        dtype = next(self.controlnet.parameters()).dtype
        model_input = torch.cat([noised.noisy["rgb"], fill.float(), masked.float()], dim=1).to(dtype)
        predicted = refined_noise_prediction(self.base.unet, self.controlnet, model_input, noised.timesteps,
                                             context.to(dtype), {}, {"pose": dropped.maps["pose"].to(dtype)})
        loss = F.mse_loss(predicted.float(), noised.noise["rgb"].float())
        return loss, {"text_dropped": dropped.text_mask.float().mean().item(),
                      "fill_fraction": fill.float().mean().item()}


def drop_keep(keep: torch.Tensor, rate: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """keep (B,1,H,W) with each sample's kept region emptied at `rate` (nothing kept: all painted). No draw
    at rate 0, so runs without it are unchanged draw for draw."""
    if rate == 0:
        return keep
    dropped = (torch.rand(len(keep), generator=generator) < rate).to(keep.device).view(-1, 1, 1, 1)
    return torch.where(dropped, torch.zeros_like(keep), keep)


def train_hand_body(cfg: HandBodyConfig, shards: str | list[str], run_dir: str | Path,
                    resume: str | None = None) -> LoopResult:
    run_dir = Path(run_dir)
    accelerator, resume_from, start_step = start_run(run_dir, cfg.loop, resume)
    folder = main_process_first(accelerator, lambda create: base_folder(cfg, run_dir, create=create))
    base = load_inpaint_base(folder)
    controlnet = build_controlnet(cfg, base)  # copied in fp32, before the base is cast
    base.to(accelerator.device, weight_dtype(accelerator))
    if cfg.loop.gradient_checkpointing:
        controlnet.enable_gradient_checkpointing()
        base.unet.enable_gradient_checkpointing()
    ema = make_ema(controlnet, cfg.ema)
    store_models_as_pretrained(accelerator, ["controlnet"], {"controlnet": ema} if ema is not None else None)

    batches = make_dataloader(shards, cfg.data, seed=cfg.loop.seed + start_step, decode=decode_body_with_hands)
    controlnet, optimizer, lr_scheduler = prepare_for_training(
        accelerator, controlnet, ema, cfg.optim, cfg.loop, resume_from, start_step
    )
    record_run(accelerator, run_dir, cfg, "hand-body", shards, resume_from, start_step, base=str(folder),
               parameters={"controlnet_trainable": sum(p.numel() for p in controlnet.parameters() if p.requires_grad),
                           "unet_frozen": sum(p.numel() for p in base.unet.parameters())})
    objective = HandBodyObjective(controlnet, base, cfg, accelerator.device)
    result = train_loop(
        accelerator=accelerator, model=controlnet, optimizer=optimizer, lr_scheduler=lr_scheduler, batches=batches,
        compute_loss=objective.loss, loop=cfg.loop, max_grad_norm=cfg.optim.max_grad_norm, run_dir=run_dir,
        start_step=start_step, ema=ema, checkpoint_state=lambda: {"stage": "hand-body"},
    )
    return finish_run(accelerator, result)
