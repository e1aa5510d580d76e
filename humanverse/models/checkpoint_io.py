"""Reading published checkpoints safely and naming the files a stage loaded by their sha256.

torch.load runs with weights_only=True. Checkpoints saved by mmcv/mmengine runners may hold numpy arrays in
their `meta`, which that mode refuses; we allow exactly numpy's array and scalar reconstruction, nothing else, instead of
falling back to full unpickling.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from humanverse.models.weights_digest import sha256_file


def load_torch_file(path: str | Path) -> dict:
    """A .pth/.pt file's contents on CPU; zip-format files are memory-mapped (pages read as they are used)
    rather than copied whole into memory first; the legacy pre-1.6 format cannot be, and is read."""
    import zipfile

    import numpy as np
    import torch

    mmap = zipfile.is_zipfile(path)
    try:
        return torch.load(str(path), map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # noqa: BLE001 - retried with numpy allowed, else re-raised
        if "weights_only" not in str(exc) and "Unsupported global" not in str(exc):
            raise
    core = np._core.multiarray
    allowed: list = [np.ndarray, np.dtype, core._reconstruct, core.scalar]
    allowed += [(core._reconstruct, "numpy.core.multiarray._reconstruct"), (core.scalar, "numpy.core.multiarray.scalar")]
    allowed += [type(np.dtype(t)) for t in ("float32", "float64", "int64", "int32", "uint8", "bool")]
    with torch.serialization.safe_globals(allowed):
        return torch.load(str(path), map_location="cpu", weights_only=True, mmap=mmap)


def model_id(name: str, files: list[Path]) -> str:
    """'name sha256:<hex>' of one file, or of the sorted per-file digests when a model is several files."""
    digests = [sha256_file(p) for p in files]
    if len(digests) == 1:
        return f"{name} sha256:{digests[0]}"
    combined = hashlib.sha256("".join(sorted(digests)).encode()).hexdigest()
    return f"{name} sha256:{combined}"
