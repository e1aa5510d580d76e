"""PyTorch Lightning training checkpoints -> the bare network state dict (Omnidata's v2 `.ckpt` files).

Omnidata trains with PL 1.1.8, whose checkpoints key callback state by the callback *class* and may hold an
argparse.Namespace in `hyper_parameters`; PL >= 1.5 keys callbacks by strings. Both carry optimizer and
scheduler state too. The restricted unpickler turns every class into an inert placeholder, so both layouts read
without running anything; only `state_dict` is kept, with the LightningModule's `model.` prefix removed.
"""

from __future__ import annotations

from pathlib import Path

import torch

from humanverse.models.importers.torch_checkpoint import read_checkpoint, tensors_only

PREFIX = "model."


def import_lightning(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    ckpt, placeholders = read_checkpoint(path)
    if isinstance(ckpt, dict) and isinstance(ckpt.get("state_dict"), dict):
        state, layout = ckpt["state_dict"], f"Lightning checkpoint (pytorch-lightning {ckpt.get('pytorch-lightning_version', '?')})"
    elif isinstance(ckpt, dict) and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state, layout = ckpt, "bare state dict"
    else:
        raise ValueError(f"{path}: neither a Lightning checkpoint (no state_dict) nor a bare state dict")
    state = tensors_only(state, str(path))
    prefixed = bool(state) and all(k.startswith(PREFIX) for k in state)
    if prefixed:
        state = {k[len(PREFIX):]: v for k, v in state.items()}
    dropped = sorted(k for k in ckpt if k != "state_dict") if isinstance(ckpt, dict) and layout != "bare state dict" else []
    converted = f"{layout} -> state_dict only" + (f", '{PREFIX}' prefix removed" if prefixed else "")
    if dropped:
        converted += f"; dropped {', '.join(map(str, dropped))}"
    return state, {"converted": converted, "inert_globals": placeholders}
