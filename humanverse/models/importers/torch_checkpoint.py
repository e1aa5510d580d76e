"""Any published torch checkpoint, read as data: zip archives through the restricted unpickler, the legacy
(pre-1.6) format only through torch's weights_only loader (it has no archive to read storages from)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import torch

from humanverse.models.restricted_unpickle import load_zip_pickle


def read_checkpoint(path: str | Path) -> tuple[object, list[str]]:
    """(the pickled object, the globals that became inert placeholders)."""
    if zipfile.is_zipfile(path):
        return load_zip_pickle(path)
    return torch.load(str(path), map_location="cpu", weights_only=True), []


def tensors_only(state: dict, source: str) -> dict[str, torch.Tensor]:
    """A flat name -> tensor dict; anything else in it is an error naming the first offender."""
    if not isinstance(state, dict):
        raise ValueError(f"{source}: expected a state dict, found {type(state).__name__}")
    bad = [k for k, v in state.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"{source}: state dict entry {bad[0]!r} is not a named tensor")
    return {k: v.contiguous() for k, v in state.items()}
