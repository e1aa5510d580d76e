"""Stage 1 training: jointly denoise RGB, depth and normal latents conditioned on caption and pose.

Reads like a diffusers training example: build the parts, measure the latent statistics, prepare with
accelerate, resume if asked, then hand `LSDObjective.loss` to the shared loop (loop.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
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
    read_state,
    store_models_as_pretrained,
)
from humanverse.train.lsd.latent_stats import LatentStats, StatsAccumulator
from humanverse.train.common.loop import LoopResult, to_device, train_loop
from humanverse.train.lsd.components import (
    Stage1Frozen,
    build_unet,
    check_compatible,
    encode_text,
    load_frozen,
)
from humanverse.train.lsd.config import LSDConfig
from humanverse.train.common.noise_schedule import (
    noise_all_at_one_timestep,
    training_scheduler,
)
from humanverse.train.common.shard_data import Decoder, decode_sample, make_dataloader

log = logging.getLogger(__name__)

STATS_FILE = "latent_stats.json"


def modality_images(batch: dict) -> dict[str, torch.Tensor]:
    """The three targets as 3-channel images in [-1, 1], the VAE's input range."""
    return {
        "rgb": batch["image"],
        "depth": (batch["depth"] * 2 - 1).expand(-1, 3, -1, -1),
        "normal": batch["normal"].clamp(-1, 1),
    }


ImagesOf = Callable[[dict], dict[str, torch.Tensor]]


@dataclass(frozen=True)
class JointTask:
    """What makes a joint expert-branch model one method rather than another: the samples it reads and the
    images its branches denoise (the UNet, objective, loop and checkpoints are the same code)."""

    stage: str
    images_of: ImagesOf
    decode: Decoder


LSD_TASK = JointTask("lsd", modality_images, decode_sample)


@torch.no_grad()
def encode_batch(frozen: Stage1Frozen, batch: dict, generator: torch.Generator | None = None,
                 images_of: ImagesOf = modality_images):
    """Unnormalised latents of every modality (default rgb/depth/normal) plus the pose latent, in one VAE pass."""
    images = images_of(batch)
    stacked = torch.cat([*images.values(), batch["pose"] * 2 - 1])
    latents = encode_images(frozen.vae, stacked, generator).float().chunk(len(images) + 1)
    return dict(zip(images, latents[:-1])), latents[-1]


@torch.no_grad()
def measure_latent_stats(frozen: Stage1Frozen, batches, num_batches: int, accelerator,
                         images_of: ImagesOf = modality_images) -> LatentStats:
    acc = StatsAccumulator()
    for _, batch in zip(range(num_batches), batches):
        latents, _ = encode_batch(frozen, to_device(batch, accelerator.device), images_of=images_of)
        for name, z in latents.items():
            acc.add(name, z)
    return acc.finish(reduce=lambda t: accelerator.reduce(t.to(accelerator.device), reduction="sum").cpu())


class LSDObjective:
    """v-prediction loss on every modality at one timestep, with text and pose dropout."""

    def __init__(self, model, frozen: Stage1Frozen, stats: LatentStats, cfg: LSDConfig, device,
                 images_of: ImagesOf = modality_images):
        self.images_of = images_of
        self.model = model
        self.frozen = frozen
        self.stats = stats
        self.cfg = cfg.objective
        self.scheduler = training_scheduler()
        self.device = device

    def loss(self, batch: dict, generator: torch.Generator | None = None) -> tuple[torch.Tensor, dict[str, float]]:
        raw, pose_latent = encode_batch(self.frozen, batch, generator, self.images_of)
        latents = {name: self.stats.normalize(name, z) for name, z in raw.items()}
        batch_size = pose_latent.shape[0]

        drop_text = torch.rand(batch_size, generator=generator) < self.cfg.text_dropout
        captions = ["" if drop else caption for caption, drop in zip(batch["caption"], drop_text.tolist())]
        drop_pose = (torch.rand(batch_size, generator=generator) < self.cfg.pose_dropout).to(self.device)
        pose_latent = torch.where(drop_pose.view(-1, 1, 1, 1), torch.zeros_like(pose_latent), pose_latent)
        with torch.no_grad():
            context = encode_text(self.frozen, captions, self.device)

        noised = noise_all_at_one_timestep(self.scheduler, latents, generator)
        model_dtype = next(self.model.parameters()).dtype
        predicted = self.model(
            {k: v.to(model_dtype) for k, v in noised.noisy.items()},
            pose_latent.to(model_dtype),
            noised.timesteps,
            context.to(model_dtype),
        )
        terms = {name: F.mse_loss(predicted[name].float(), noised.velocity[name].float()) for name in self.cfg.MODALITIES}
        parts = {f"loss_{name}": term.detach().item() for name, term in terms.items()}
        return combine_modality_losses(terms, self.cfg.modality_weights, self.cfg.modality_reduction), parts


def combine_modality_losses(terms: dict[str, torch.Tensor], weights: dict[str, float], reduction: str) -> torch.Tensor:
    """The weighted sum of the per-modality losses (the paper's), or their weighted mean."""
    total = sum(weights[name] * term for name, term in terms.items())
    return total / sum(weights.values()) if reduction == "mean" else total


def train_lsd(
    cfg: LSDConfig, shards: str | list[str], run_dir: str | Path, resume: str | None = None
) -> LoopResult:
    return train_joint(cfg, shards, run_dir, resume, LSD_TASK)


def train_joint(
    cfg: LSDConfig, shards: str | list[str], run_dir: str | Path, resume: str | None, task: JointTask
) -> LoopResult:
    """Train an expert-branch model for `task` (HyperHuman's stage 1, or the hand generator)."""
    run_dir = Path(run_dir)
    accelerator, resume_from, start_step = start_run(run_dir, cfg.loop, resume)
    # Random frozen parts are created by the main process only, then everyone loads the same files.
    frozen = main_process_first(accelerator, lambda create: load_frozen(cfg, run_dir, create=create))
    dtype = weight_dtype(accelerator)
    frozen.vae.to(accelerator.device, dtype=dtype)
    frozen.text_encoder.to(accelerator.device, dtype=dtype)

    model = build_unet(cfg)
    check_compatible(model, frozen)
    if cfg.loop.gradient_checkpointing:
        model.enable_gradient_checkpointing()
    ema = make_ema(model, cfg.ema)
    store_models_as_pretrained(accelerator, ["unet"], {"unet": ema} if ema is not None else None)

    # A resumed run must not replay the first run's stream: the seed moves with the step.
    batches = make_dataloader(shards, cfg.data, seed=cfg.loop.seed + start_step, decode=task.decode)

    if resume_from:
        stats = LatentStats.from_dict(read_state(resume_from)["latent_stats"])
    elif (run_dir / STATS_FILE).is_file():
        stats = LatentStats.load(run_dir / STATS_FILE)
    else:
        stats = measure_latent_stats(frozen, batches, cfg.objective.latent_stats_batches, accelerator, task.images_of)
        if accelerator.is_main_process:
            stats.save(run_dir / STATS_FILE)
    if accelerator.is_main_process:
        log.info("latent stats: %s", stats.to_dict())

    model, optimizer, lr_scheduler = prepare_for_training(
        accelerator, model, ema, cfg.optim, cfg.loop, resume_from, start_step
    )
    record_run(accelerator, run_dir, cfg, task.stage, shards, resume_from, start_step)

    objective = LSDObjective(model, frozen, stats, cfg, accelerator.device, task.images_of)
    result = train_loop(
        accelerator=accelerator,
        model=model,
        optimizer=optimizer,
        lr_scheduler=lr_scheduler,
        batches=batches,
        compute_loss=objective.loss,
        loop=cfg.loop,
        max_grad_norm=cfg.optim.max_grad_norm,
        run_dir=run_dir,
        start_step=start_step,
        ema=ema,
        checkpoint_state=lambda: {"latent_stats": stats.to_dict(), "stage": task.stage},
    )
    return finish_run(accelerator, result)
