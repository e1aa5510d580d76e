"""LAION's CLIP-based NSFW detector for ViT-L/14 embeddings, converted from its real Keras export.

LAION-AI/CLIP-based-NSFW-Detector publishes the model only as an AutoKeras SavedModel
(`clip_autokeras_binary_nsfw.zip`). `humanverse models import laion-clip-nsfw clip_autokeras_binary_nsfw.zip`
reads it without TensorFlow (models/importers/nsfw_keras.py) and writes `clip_autokeras_binary_nsfw.safetensors`,
which this module loads. The Keras graph is:

  MultiCategoryEncoding -> Normalization -> Dense 64, ReLU -> Dense 512, ReLU -> Dense 256, ReLU -> Dense 1, sigmoid

AutoKeras decided at training time that five input columns (180, 316, 413, 440, 644) are categorical: their value
is formatted as C "%f" (6 decimals), looked up in that column's vocabulary (index = position + 1, 0 when absent)
and the index, not the value, is what Normalization sees. A port that feeds raw values differs from the real model
by up to 0.26 on fp16-rounded embeddings, so the lookup is part of the head here. Other columns pass through
(NaN -> 0). Normalization divides by max(sqrt(variance), 1e-7) as Keras does.

The output is a probability in 0-1 that the image is NSFW; LAION-5B's `punsafe` column comes from this detector.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from humanverse.models.clip.clip_published import NSFW_FILE as PUBLISHED_FILE

EMBED_DIM = 768
HIDDEN = (64, 512, 256)
KERAS_EPSILON = 1e-7
IMPORT_HINT = ("convert LAION's published clip_autokeras_binary_nsfw.zip with "
               "`humanverse models import laion-clip-nsfw clip_autokeras_binary_nsfw.zip`")


def format_micro(values: np.ndarray) -> np.ndarray:
    """Each value as C "%f" would print it, read back as an integer count of millionths.

    "%f" rounds the exact binary value to 6 decimals; going through the string keeps that rounding exact (a
    float multiply by 1e6 would not). NaN and infinities get an out-of-range sentinel that no vocabulary holds.
    """
    flat = np.asarray(values, dtype=np.float64).ravel()
    out = np.full(flat.shape, np.iinfo(np.int64).min, dtype=np.int64)
    finite = np.isfinite(flat)
    out[finite] = [micro_of(("%f" % v).encode()) for v in flat[finite]]
    return out.reshape(np.shape(values))


def micro_of(text: bytes) -> int:
    """b"-0.062683" -> -62683: the exact integer behind a "%f" string."""
    whole, _, frac = text.decode("ascii").partition(".")
    if len(frac) != 6 or not frac.isdigit():
        raise ValueError(f"{text!r} is not a %f-formatted number")
    negative = whole.startswith("-")
    magnitude = int(whole.lstrip("-")) * 1_000_000 + int(frac)
    return -magnitude if negative else magnitude


class CategoricalLookup(nn.Module):
    """AutoKeras' per-column StringLookup on "%f" strings, held as integer millionths (exact, tensor-only)."""

    def __init__(self, columns: list[int], vocab_sizes: list[int]):
        super().__init__()
        self.register_buffer("columns", torch.tensor(columns, dtype=torch.int64))
        for i, size in enumerate(vocab_sizes):
            self.register_buffer(f"vocab_{i}", torch.zeros(size, dtype=torch.int64))
        self._tables: list[dict[int, int]] | None = None

    def _lookup_tables(self) -> list[dict[int, int]]:
        if self._tables is None:
            self._tables = []
            for i in range(len(self.columns)):
                vocab = getattr(self, f"vocab_{i}").cpu().tolist()
                self._tables.append({v: pos + 1 for pos, v in enumerate(vocab)})
        return self._tables

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x with each categorical column replaced by its vocabulary index (0 when not in the vocabulary)."""
        if len(self.columns) == 0:
            return x
        cols = self.columns.tolist()
        micro = format_micro(x[:, cols].detach().to("cpu", torch.float64).numpy())
        tables = self._lookup_tables()
        index = np.array([[tables[j].get(int(v), 0) for j, v in enumerate(row)] for row in micro], dtype=np.float32)
        x = x.clone()
        x[:, cols] = torch.from_numpy(index).to(x.device, x.dtype).reshape(len(x), len(cols))
        return x

    def _load_from_state_dict(self, *args, **kwargs):  # noqa: D401 - new vocabularies: rebuild the dicts
        self._tables = None
        super()._load_from_state_dict(*args, **kwargs)


class _Normalization(nn.Module):
    """Keras' Normalization layer: (x - mean) / max(sqrt(variance), epsilon)."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("variance", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / torch.clamp(self.variance.sqrt(), min=KERAS_EPSILON)


class NSFWHead(nn.Module):
    """The Keras graph in torch; module names are the state dict keys the importer writes."""

    def __init__(self, input_size: int = EMBED_DIM, columns: list[int] | None = None,
                 vocab_sizes: list[int] | None = None):
        super().__init__()
        self.lookup = CategoricalLookup(columns or [], vocab_sizes or [])
        self.norm = _Normalization(input_size)
        self.linear_1 = nn.Linear(input_size, HIDDEN[0])
        self.linear_2 = nn.Linear(HIDDEN[0], HIDDEN[1])
        self.linear_3 = nn.Linear(HIDDEN[1], HIDDEN[2])
        self.linear_4 = nn.Linear(HIDDEN[2], 1)

    def forward(self, normalised_embedding: torch.Tensor) -> torch.Tensor:
        """(N, 768) unit-norm embeddings -> (N,) probabilities in 0-1."""
        x = normalised_embedding.float()
        x = torch.where(torch.isnan(x), torch.zeros_like(x), x)
        x = self.norm(self.lookup(x))
        x = torch.relu(self.linear_1(x))
        x = torch.relu(self.linear_2(x))
        x = torch.relu(self.linear_3(x))
        return torch.sigmoid(self.linear_4(x)).squeeze(-1)


def head_for_state(state: dict[str, torch.Tensor]) -> NSFWHead:
    """An NSFWHead shaped after a state dict (input size, categorical columns, vocabulary sizes)."""
    if "lookup.columns" not in state or "linear_1.weight" not in state:
        raise ValueError("not LAION's NSFW detector with its categorical lookup (no lookup.columns / linear_1.weight)")
    columns = [int(c) for c in state["lookup.columns"].tolist()]
    sizes = [int(state[f"lookup.vocab_{i}"].numel()) for i in range(len(columns)) if f"lookup.vocab_{i}" in state]
    if len(sizes) != len(columns):
        raise ValueError("NSFW head: a vocabulary is missing for one of lookup.columns")
    return NSFWHead(input_size=int(state["linear_1.weight"].shape[1]), columns=columns, vocab_sizes=sizes)


def load_nsfw_head(path: str | Path, device: str = "cpu") -> NSFWHead:
    """Load the imported .safetensors strictly (keys, shapes); anything else is refused with the import command."""
    from safetensors.torch import load_file

    path = Path(path)
    if path.suffix != ".safetensors":
        raise ValueError(f"{path}: the NSFW head is read from the .safetensors that `models import` writes; "
                         f"{IMPORT_HINT}")
    try:
        state = load_file(str(path))
        model = head_for_state(state)
    except Exception as exc:  # noqa: BLE001 - any unreadable or foreign file gets the same advice
        raise ValueError(f"{path}: missing or wrong format for the NSFW head ({exc}); {IMPORT_HINT}") from exc
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def build_demo_weights(target_dir: Path, seed: int = 0) -> Path:
    """Write random weights in the imported format (keys, shapes, five tiny vocabularies) for demos and tests.

    The output bias is set to -3 (probability about 0.05) so that a demo run with random weights does not
    reject everything as NSFW; the scores mean nothing.
    """
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    columns = [180, 316, 413, 440, 644]
    model = NSFWHead(columns=columns, vocab_sizes=[4] * len(columns))
    with torch.no_grad():
        model.norm.mean.normal_(0.0, 0.01)
        model.norm.variance.uniform_(0.5, 2.0).mul_(1.0 / EMBED_DIM)
        model.linear_4.bias.fill_(-3.0)
        for i in range(len(columns)):
            getattr(model.lookup, f"vocab_{i}").copy_(torch.tensor([-62683, 125488, 54688, 375000]))
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / PUBLISHED_FILE
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path))
    return path
