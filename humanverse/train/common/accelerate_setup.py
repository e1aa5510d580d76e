"""The pieces every trainer sets up the same way: the Accelerator, the run directory, the optimizer, EMA.

One Accelerator serves a laptop CPU, one GPU and multi-node jobs (`accelerate launch` or torchrun set the
environment); nothing in the trainers branches on where they run.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import torch

import humanverse
from humanverse.shards import atomic
from humanverse.train.common.config import EMAConfig, LoopConfig, OptimConfig

log = logging.getLogger(__name__)


def make_accelerator(run_dir: str | Path, loop: LoopConfig):
    from accelerate import Accelerator
    from accelerate.utils import ProjectConfiguration, set_seed

    run_dir = Path(run_dir)
    accelerator = Accelerator(
        gradient_accumulation_steps=loop.gradient_accumulation_steps,
        mixed_precision=loop.mixed_precision,
        log_with="tensorboard",
        project_config=ProjectConfiguration(project_dir=str(run_dir), logging_dir=str(run_dir / "logs")),
    )
    set_seed(loop.seed, device_specific=True)
    if loop.allow_tf32 and torch.cuda.is_available():
        torch.backends.cuda.matmul.allow_tf32 = True
    return accelerator


def start_run(run_dir: Path, loop: LoopConfig, resume: str | None):
    """What every trainer does first: the accelerator, a clean run folder, and where to resume from.

    Returns (accelerator, checkpoint to resume from or None, the step it ends at)."""
    from humanverse.train.common.checkpoints import (
        read_state,
        remove_stale_temporaries,
        resolve_resume,
    )

    accelerator = make_accelerator(run_dir, loop)
    if accelerator.is_main_process:
        run_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(run_dir)
    accelerator.wait_for_everyone()
    resume_from = resolve_resume(run_dir, resume)
    return accelerator, resume_from, (read_state(resume_from)["step"] if resume_from else 0)


def main_process_first(accelerator, make):
    """make(create=True) on the main process (which may write random frozen parts), then make(create=False)
    on the others, so every process loads the same files."""
    if accelerator.is_main_process:
        result = make(True)
    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        result = make(False)
    return result


def prepare_for_training(accelerator, model, ema, optim: OptimConfig, loop: LoopConfig, resume_from, start_step: int):
    """Optimizer, LR schedule and accelerate's wrapping, then the resumed state if any: one recipe for both
    stages, in the order accelerate's load_state expects. Returns (model, optimizer, lr_scheduler)."""
    optimizer = make_optimizer(model.parameters(), optim)
    lr_scheduler = make_lr_scheduler(optimizer, optim, loop, accelerator.num_processes)
    model, optimizer, lr_scheduler = accelerator.prepare(model, optimizer, lr_scheduler)
    if ema is not None:
        ema.to(accelerator.device)
    if resume_from:
        accelerator.load_state(str(resume_from))
        log.info("resumed from %s at step %d", resume_from, start_step)
    return model, optimizer, lr_scheduler


def weight_dtype(accelerator) -> torch.dtype:
    """The dtype for frozen models (VAE, text encoder): training precision, since they only run forward."""
    return {"fp16": torch.float16, "bf16": torch.bfloat16}.get(accelerator.mixed_precision, torch.float32)


def write_run_record(run_dir: str | Path, config: dict[str, Any], extra: dict[str, Any]) -> None:
    """run.json: the resolved config and provenance, rewritten (atomically) at every start and resume."""
    record = {"package_version": humanverse.__version__, "written_at": time.time(), "config": config, **extra}
    atomic.write_bytes(str(Path(run_dir) / "run.json"), json.dumps(record, indent=2, default=str).encode())


def record_run(accelerator, run_dir: Path, cfg, method: str, shards, resume_from, start_step: int,
               **extra: Any) -> None:
    """run.json and the tracker's hparams, written once by the main process at every start and resume."""
    if not accelerator.is_main_process:
        return
    config_tree = cfg.model_dump(mode="json")
    write_run_record(run_dir, config_tree, {
        "stage": method, "shards": shards, "resumed_from": str(resume_from) if resume_from else None,
        "start_step": start_step, "num_processes": accelerator.num_processes, **extra,
    })
    accelerator.init_trackers(method, config=flat_hparams(config_tree))


def finish_run(accelerator, result):
    """Close the trackers and log the run's speed; returns the loop's result."""
    accelerator.end_training()
    if accelerator.is_main_process:
        log.info("finished at step %d: %.3f steps/s over %d steps", result.step, result.steps_per_second,
                 result.steps_run)
    return result


def flat_hparams(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """TensorBoard's hparams take scalars only: flatten sections, stringify lists and None."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flat_hparams(value, f"{name}."))
        elif isinstance(value, (int, float, str, bool)):
            flat[name] = value
        else:
            flat[name] = str(value)
    return flat


def make_optimizer(params, optim: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(
        [p for p in params if p.requires_grad],
        lr=optim.learning_rate,
        betas=(optim.adam_beta1, optim.adam_beta2),
        weight_decay=optim.weight_decay,
        eps=optim.adam_epsilon,
    )


def make_lr_scheduler(optimizer, optim: OptimConfig, loop: LoopConfig, num_processes: int):
    from diffusers.optimization import get_scheduler

    # accelerate steps a prepared scheduler once per process per optimizer step, hence the scaling.
    return get_scheduler(
        optim.lr_scheduler,
        optimizer=optimizer,
        num_warmup_steps=optim.lr_warmup_steps * num_processes,
        num_training_steps=loop.max_steps * num_processes,
    )


def make_ema(model, ema: EMAConfig):
    """An EMA of the trainable model's weights (diffusers EMAModel), or None when disabled."""
    if not ema.enabled:
        return None
    from diffusers.training_utils import EMAModel

    return EMAModel(
        model.parameters(),
        decay=ema.decay,
        update_after_step=ema.update_after_step,
        use_ema_warmup=ema.use_warmup,
        model_cls=type(model),
        model_config=model.config,
    )
