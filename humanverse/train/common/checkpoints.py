"""Crash-safe `checkpoint-{step}` folders under a run directory, and finding the one to resume from.

A checkpoint is written into `.checkpoint-{step}.tmp` and renamed into place only when complete, so a
job killed mid-save (preemption, OOM killer) leaves the previous checkpoint as the latest one and never a
half-written folder that resume would trip over. Pruning to `checkpoints_total_limit` happens only after
the new checkpoint is in place, so a crash never leaves fewer complete checkpoints than the limit.

Trainable models are stored in diffusers' `save_pretrained` layout (plus `{name}_ema`), not as opaque
accelerate pickles, so a checkpoint folder is directly loadable for sampling; optimizer, LR scheduler and
RNG states are accelerate's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from humanverse.shards.atomic import ASIDE_TAG, publish_folder, restore_aside

CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
STATE_FILE = "trainer_state.json"


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Complete checkpoints, oldest first (temporary folders of interrupted saves are not listed)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in run_dir.iterdir() if p.is_dir() and (m := CHECKPOINT_RE.match(p.name))]
    return [p for _, p in sorted(found) if (p / STATE_FILE).is_file()]


def latest_checkpoint(run_dir: str | Path) -> Path | None:
    found = list_checkpoints(run_dir)
    return found[-1] if found else None


def resolve_resume(run_dir: str | Path, resume: str | None) -> Path | None:
    """`latest` (None when the run has no checkpoint yet, so a first run and a restart share one command),
    or an explicit checkpoint folder, which must exist and be complete."""
    if not resume:
        return None
    if resume == "latest":
        return latest_checkpoint(run_dir)
    path = Path(resume)
    if not path.is_absolute() and not path.exists():
        path = Path(run_dir) / resume
    if not (path / STATE_FILE).is_file():
        raise FileNotFoundError(f"{path} is not a complete checkpoint (no {STATE_FILE})")
    return path


def trained_checkpoint(path: str | Path) -> Path:
    """A checkpoint folder as given, or a run directory's latest one: what sample, eval and export load."""
    path = Path(path)
    checkpoint = path if (path / STATE_FILE).is_file() else latest_checkpoint(path)
    if checkpoint is None:
        raise FileNotFoundError(f"no checkpoint under {path}")
    return checkpoint


def weights_folder(checkpoint: Path, model: str, use_ema: bool) -> Path:
    """checkpoint/<model>_ema when asked for and saved, else checkpoint/<model>."""
    ema = checkpoint / f"{model}_ema"
    return ema if use_ema and ema.is_dir() else checkpoint / model


def read_run_record(run_dir: str | Path) -> dict[str, Any]:
    """A training run's run.json, read as from others (a pulled run folder): capped, an object of bounded
    depth (shards/untrusted.py); FileNotFoundError when it is not a run folder, ValueError when it is bad."""
    from humanverse.shards.untrusted import read_json_file

    path = Path(run_dir) / "run.json"
    record = read_json_file(str(path))
    if record is None:
        raise FileNotFoundError(f"{path} not found: is {run_dir} a training run folder?")
    return record


def read_state(checkpoint: str | Path) -> dict[str, Any]:
    """A checkpoint's state file, read as from others (capped, a bounded object: shards/untrusted.py)."""
    from humanverse.shards.untrusted import read_json_file

    state = read_json_file(str(Path(checkpoint) / STATE_FILE))
    if state is None:
        raise FileNotFoundError(f"{Path(checkpoint) / STATE_FILE} not found: not a complete checkpoint")
    return state


def remove_stale_temporaries(run_dir: str | Path) -> None:
    """Delete interrupted saves; put back a checkpoint a crash left set aside while re-saving its step."""
    for tmp in Path(run_dir).glob(".checkpoint-*.tmp"):
        shutil.rmtree(tmp, ignore_errors=True)
    for aside in Path(run_dir).glob(f".checkpoint-*{ASIDE_TAG}*"):
        restore_aside(aside.parent / aside.name[1:].split(ASIDE_TAG)[0])


def save_checkpoint(accelerator, run_dir: str | Path, step: int, state: dict[str, Any],
                    total_limit: int | None = None) -> Path:
    """Save everything accelerate tracks plus `state` (JSON) as checkpoint-{step}; all processes call this."""
    run_dir = Path(run_dir)
    final = run_dir / f"checkpoint-{step}"
    tmp = run_dir / f".checkpoint-{step}.tmp"
    if accelerator.is_main_process and tmp.exists():
        shutil.rmtree(tmp)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / STATE_FILE).write_text(json.dumps({"step": step, **state}, indent=2))
        publish_folder(tmp, final)  # re-saving a step (a resumed run that ends where it started) replaces it
        if total_limit is not None:
            for old in list_checkpoints(run_dir)[:-total_limit]:
                shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()
    return final


def store_models_as_pretrained(accelerator, names: list[str], emas: dict[str, Any] | None = None) -> None:
    """Make accelerator.save_state / load_state keep the prepared models (in prepare order) as
    `{name}/` save_pretrained folders and their EMA copies as `{name}_ema/` (the diffusers examples' hooks)."""
    emas = emas or {}

    def save_hook(models, weights, output_dir):
        if accelerator.is_main_process:
            for name, model in zip(names, models):
                accelerator.unwrap_model(model).save_pretrained(os.path.join(output_dir, name))
                if name in emas:
                    emas[name].save_pretrained(os.path.join(output_dir, f"{name}_ema"))
        while weights:  # stored above; stop accelerate from pickling them a second time
            weights.pop()

    def load_hook(models, input_dir):
        loaded = list(models)
        models.clear()
        for name, model in zip(names, loaded):
            model = accelerator.unwrap_model(model)
            source = type(model).from_pretrained(os.path.join(input_dir, name), local_files_only=True)
            model.load_state_dict(source.state_dict())
            del source
            if name in emas:
                load_ema_folder(emas[name], os.path.join(input_dir, f"{name}_ema"), type(model))
                emas[name].to(accelerator.device)

    accelerator.register_save_state_pre_hook(save_hook)
    accelerator.register_load_state_pre_hook(load_hook)


EMA_STATE_KEYS = ("decay", "min_decay", "optimization_step", "update_after_step", "use_ema_warmup", "inv_gamma",
                  "power")


def load_ema_folder(ema, folder: str | Path, model_cls) -> None:
    """Restore a diffusers EMAModel from the folder its `save_pretrained` wrote (weights + EMA counters in
    config.json), through supported calls only: `load_config` and `from_pretrained`, then
    `EMAModel.load_state_dict`. diffusers' own `EMAModel.from_pretrained` passes a path to `from_config`, a
    deprecated path due for removal in diffusers 1.0."""
    config = model_cls.load_config(folder)
    state = {key: config[key] for key in EMA_STATE_KEYS if key in config}
    source = model_cls.from_pretrained(folder, local_files_only=True)
    state["shadow_params"] = [p.detach().clone() for p in source.parameters()]
    ema.load_state_dict(state)
    del source
