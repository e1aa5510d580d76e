"""The LAION aesthetic MLP: its published `.pth` is already a plain state dict the loader reads with
weights_only=True, so importing validates it strictly and keeps the bytes unchanged."""

from __future__ import annotations

from pathlib import Path


def import_aesthetic(path: str | Path) -> tuple[None, dict]:
    from humanverse.models.clip.aesthetic_mlp import load_aesthetic_mlp

    model = load_aesthetic_mlp(path)  # strict keys and shapes, weights_only
    del model
    return None, {"converted": "none: the published .pth is already the loader's format (validated strictly, copied)"}

