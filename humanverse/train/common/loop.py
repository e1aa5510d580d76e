"""The optimisation loop both stages share: accumulate, clip, step, EMA, log, checkpoint, stop at max_steps.

A trainer hands in a prepared model/optimizer/scheduler, a batch stream and a `compute_loss(batch)`; the
loop owns everything about steps, so resume, checkpoint cadence and logging behave identically in stage 1
and stage 2. `step` counts optimizer updates (not micro-batches), which is what checkpoint names and
`--max-steps` mean.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from humanverse.train.common.checkpoints import save_checkpoint
from humanverse.train.common.config import LoopConfig
from humanverse.train.common.shard_data import SkipTally
from humanverse.step_progress import StepProgress

log = logging.getLogger(__name__)

LossFn = Callable[[dict[str, Any]], tuple[torch.Tensor, dict[str, float]]]


@dataclass
class LoopResult:
    step: int
    steps_run: int
    seconds: float
    last_logs: dict[str, float]

    @property
    def steps_per_second(self) -> float:
        return self.steps_run / self.seconds if self.seconds > 0 else 0.0


def to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    return {k: v.to(device, non_blocking=True) if isinstance(v, torch.Tensor) else v for k, v in batch.items()}


def train_loop(
    *,
    accelerator,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    lr_scheduler,
    batches: Iterable[dict[str, Any]],
    compute_loss: LossFn,
    loop: LoopConfig,
    max_grad_norm: float,
    run_dir: str | Path,
    start_step: int = 0,
    ema=None,
    checkpoint_state: Callable[[], dict[str, Any]] = dict,
) -> LoopResult:
    """Run until loop.max_steps optimizer steps have been taken in total (counting those before a resume)."""
    step = start_step
    if step >= loop.max_steps:
        log.info("already at step %d >= max_steps %d; nothing to do", step, loop.max_steps)
        return LoopResult(step, 0, 0.0, {})
    skipped = SkipTally()
    window_loss: list[float] = []
    logs: dict[str, float] = {}
    started = time.perf_counter()
    last_saved = start_step
    model.train()
    # a live bar on a terminal, a line every 30 s in logs; the log.info lines below stay for log files
    with StepProgress(loop.max_steps, "train", initial=start_step, enabled=accelerator.is_main_process) as bar:
        for batch in batches:
            batch = to_device(batch, accelerator.device)
            if "skipped" in batch:
                skipped.update(batch)
            with accelerator.accumulate(model):
                loss, parts = compute_loss(batch)
                accelerator.backward(loss)
                if accelerator.sync_gradients:
                    accelerator.clip_grad_norm_(model.parameters(), max_grad_norm)
                optimizer.step()
                lr_scheduler.step()
                optimizer.zero_grad(set_to_none=True)
            window_loss.append(loss.detach().float().item())
            if not accelerator.sync_gradients:
                continue

            step += 1
            if ema is not None:
                ema.step(model.parameters())
            bar.advance(info=f"loss {window_loss[-1]:.4g}")
            if step % loop.log_every == 0 or step == loop.max_steps:
                elapsed = time.perf_counter() - started
                logs = {
                    "loss": sum(window_loss) / len(window_loss),
                    **{k: float(v) for k, v in parts.items()},
                    "lr": lr_scheduler.get_last_lr()[0],
                    "skipped_samples": float(skipped.total),
                    "steps_per_second": (step - start_step) / elapsed if elapsed > 0 else 0.0,
                }
                accelerator.log(logs, step=step)
                if accelerator.is_main_process:
                    rate = logs["steps_per_second"]
                    eta = (loop.max_steps - step) / rate if rate > 0 else float("inf")
                    log.info("step %d/%d %s eta=%s", step, loop.max_steps,
                             " ".join(f"{k}={v:.4g}" for k, v in logs.items()), _clock(eta))
                window_loss.clear()
            if step % loop.checkpointing_steps == 0 or step == loop.max_steps:
                path = save_checkpoint(accelerator, run_dir, step, checkpoint_state(), loop.checkpoints_total_limit)
                last_saved = step
                if accelerator.is_main_process:
                    log.info("saved %s", path)
            if step >= loop.max_steps:
                break
    if step > last_saved:  # the stream ended early (a finite stream in tests or tools)
        save_checkpoint(accelerator, run_dir, step, checkpoint_state(), loop.checkpoints_total_limit)
    return LoopResult(step, step - start_step, time.perf_counter() - started, logs)


def _clock(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
