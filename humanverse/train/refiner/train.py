"""Stage 2 training: teach a ControlNet copy of SDXL's encoder to follow pose, depth and normal maps.

Reads like diffusers' train_controlnet_sdxl.py: load the frozen SDXL base, copy its encoder into the
trainable StructureControlNet, prepare with accelerate, resume if asked, then hand `RefinerObjective.loss`
to the loop both stages share (loop.py), with the same checkpoints, EMA, logging and run record as stage 1.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F

from humanverse.train.common.vae import encode_images
from humanverse.train.common.accelerate_setup import (
    finish_run,
    main_process_first,
    make_ema,
    prepare_for_training,
    start_run,
    weight_dtype,
    record_run,
)
from humanverse.train.common.checkpoints import (
    store_models_as_pretrained,
)
from humanverse.train.common.loop import LoopResult, train_loop
from humanverse.train.common.noise_schedule import (
    SDXL_SCHEDULE_CONFIG,
    noise_all_at_one_timestep,
    training_scheduler,
)
from humanverse.train.refiner.components import (
    SDXLBase,
    base_folder,
    build_controlnet,
    encode_prompt,
    load_sdxl_base,
    micro_conditioning,
)
from humanverse.train.refiner.config import RefinerConfig
from humanverse.train.refiner.dropout import drop_conditions
from humanverse.train.refiner.model import StructureControlNet, refined_noise_prediction
from humanverse.train.common.shard_data import make_dataloader

log = logging.getLogger(__name__)


class RefinerObjective:
    """Epsilon-prediction loss of (frozen SDXL UNet + ControlNet residuals), with text and map dropout."""

    def __init__(self, controlnet: StructureControlNet, base: SDXLBase, cfg: RefinerConfig, device):
        self.controlnet = controlnet
        self.base = base
        self.cfg = cfg
        self.scheduler = training_scheduler(SDXL_SCHEDULE_CONFIG)
        self.device = device

    def loss(self, batch: dict, generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        names = list(self.cfg.condition_embedder.conditions)
        dropped = drop_conditions(batch["caption"], {name: batch[name] for name in names},
                                  self.cfg.objective.text_dropout, self.cfg.objective.condition_dropout, generator)
        with torch.no_grad():
            latents = encode_images(self.base.vae, batch["image"], generator).float()
        context, pooled = encode_prompt(self.base, dropped.captions, self.device)
        time_ids = micro_conditioning(batch["original_size"], batch["crop_top_left"], self.cfg.data.resolution)

        noised = noise_all_at_one_timestep(self.scheduler, {"rgb": latents}, generator,
                                           self.cfg.objective.timesteps)
        dtype = next(self.controlnet.parameters()).dtype
        predicted = refined_noise_prediction(
            self.base.unet,
            self.controlnet,
            noised.noisy["rgb"].to(dtype),
            noised.timesteps,
            context.to(dtype),
            {"text_embeds": pooled.to(dtype), "time_ids": time_ids.to(self.device, dtype)},
            {name: value.to(dtype) for name, value in dropped.maps.items()},
        )
        loss = F.mse_loss(predicted.float(), noised.noise["rgb"].float())
        parts = {"text_dropped": dropped.text_mask.float().mean().item()}
        parts.update({f"{name}_dropped": mask.float().mean().item() for name, mask in dropped.map_masks.items()})
        return loss, parts


def train_refiner(
    cfg: RefinerConfig, shards: str | list[str], run_dir: str | Path, resume: str | None = None
) -> LoopResult:
    run_dir = Path(run_dir)
    accelerator, resume_from, start_step = start_run(run_dir, cfg.loop, resume)
    # A random base is written by the main process only, then every process loads the same files.
    folder = main_process_first(accelerator, lambda create: base_folder(cfg, run_dir, create=create))
    base = load_sdxl_base(folder)

    controlnet = build_controlnet(cfg, base)  # the copy is taken in fp32, before the base is cast
    base.to(accelerator.device, weight_dtype(accelerator))
    if cfg.loop.gradient_checkpointing:
        controlnet.enable_gradient_checkpointing()
        base.unet.enable_gradient_checkpointing()  # activations of the frozen UNet are kept for the backward
    ema = make_ema(controlnet, cfg.ema)
    store_models_as_pretrained(accelerator, ["controlnet"], {"controlnet": ema} if ema is not None else None)

    # A resumed run must not replay the first run's stream: the seed moves with the step.
    batches = make_dataloader(shards, cfg.data, seed=cfg.loop.seed + start_step)

    controlnet, optimizer, lr_scheduler = prepare_for_training(
        accelerator, controlnet, ema, cfg.optim, cfg.loop, resume_from, start_step
    )
    record_run(accelerator, run_dir, cfg, "refiner", shards, resume_from, start_step, base=str(folder), parameters={
        "controlnet_trainable": sum(p.numel() for p in controlnet.parameters() if p.requires_grad),
        "unet_frozen": sum(p.numel() for p in base.unet.parameters()),
    })

    objective = RefinerObjective(controlnet, base, cfg, accelerator.device)
    result = train_loop(
        accelerator=accelerator,
        model=controlnet,
        optimizer=optimizer,
        lr_scheduler=lr_scheduler,
        batches=batches,
        compute_loss=objective.loss,
        loop=cfg.loop,
        max_grad_norm=cfg.optim.max_grad_norm,
        run_dir=run_dir,
        start_step=start_step,
        ema=ema,
        checkpoint_state=lambda: {"stage": "refiner"},
    )
    return finish_run(accelerator, result)
