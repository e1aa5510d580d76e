"""OpenAI's CLIP TorchScript archives (`ViT-L-14.pt`) -> an open_clip state dict, without running TorchScript.

The archive is a zip: `data.pkl` pickles the module tree as `__torch__.*` objects whose pickled state holds
their attributes, tensors stored under `data/`; `code/__torch__/**.py` declares per class which attributes are
`__parameters__` and `__buffers__`. The restricted unpickler rebuilds the tree from inert placeholders, the class
declarations are read as text, and the result is what `torch.jit.load(f).state_dict()` gives: parameters and
buffers by dotted name. open_clip drops the same three bookkeeping entries when it converts OpenAI's weights
(`build_model_from_openai_state_dict`); OpenAI's module names are open_clip's, so nothing is renamed.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath

import torch

from humanverse.models.restricted_unpickle import InertGlobal, load_zip_pickle

OPENAI_BOOKKEEPING = ("input_resolution", "context_length", "vocab_size")
REBUILT_BY_OPEN_CLIP = ("attn_mask",)
"""The causal text mask: a non-persistent buffer in open_clip (rebuilt at construction), saved by TorchScript."""
MAX_CODE_BYTES = 64 << 20
_CLASS = re.compile(r"^class (\w+)\(", re.M)
_LIST = re.compile(r"^\s+(__parameters__|__buffers__) = \[(.*?)\]", re.M | re.S)


def declared_tensors(path: str | Path) -> dict[tuple[str, str], set[str]]:
    """(module, class) -> names of its parameters and buffers, from the archive's code/ files (read as text)."""
    out: dict[tuple[str, str], set[str]] = {}
    with zipfile.ZipFile(path) as archive:
        total = 0
        for info in archive.infolist():
            parts = PurePosixPath(info.filename).parts
            if len(parts) < 3 or parts[1] != "code" or not info.filename.endswith(".py"):
                continue
            total += info.file_size
            if total > MAX_CODE_BYTES:
                raise ValueError(f"{path}: code/ is larger than {MAX_CODE_BYTES} bytes")
            module = ".".join(parts[2:])[: -len(".py")]
            text = archive.read(info).decode("utf-8", "replace")
            starts = [(m.start(), m.group(1)) for m in _CLASS.finditer(text)] + [(len(text), "")]
            for (start, name), (end, _next) in zip(starts, starts[1:]):
                names: set[str] = set()
                for lst in _LIST.finditer(text[start:end]):
                    names |= set(re.findall(r'"([^"]+)"', lst.group(2)))
                out[(module, name)] = names
    return out


def import_openai_clip(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    root, placeholders = load_zip_pickle(path)
    if not isinstance(root, InertGlobal) or not root.module.startswith("__torch__"):
        raise ValueError(f"{path}: not a TorchScript archive (data.pkl holds no __torch__ module)")
    declared = declared_tensors(path)
    state: dict[str, torch.Tensor] = {}
    _collect(root, "", declared, state)
    for key in OPENAI_BOOKKEEPING + REBUILT_BY_OPEN_CLIP:
        state.pop(key, None)
    if "visual.conv1.weight" not in state or "positional_embedding" not in state:
        raise ValueError(f"{path}: not OpenAI's CLIP (no visual.conv1.weight / positional_embedding)")
    converted = (f"OpenAI CLIP TorchScript archive -> open_clip state dict ({len(state)} tensors from data.pkl, "
                 f"read without executing TorchScript; dropped {', '.join(OPENAI_BOOKKEEPING + REBUILT_BY_OPEN_CLIP)})")
    return {k: v.contiguous() for k, v in state.items()}, {"converted": converted, "inert_globals": placeholders}


def _collect(obj: InertGlobal, prefix: str, declared: dict, out: dict[str, torch.Tensor]) -> None:
    state = obj.state
    if not isinstance(state, dict):
        return
    wanted = declared.get((obj.module, obj.qualname))
    for key, value in state.items():
        if isinstance(value, torch.Tensor) and (wanted is None or key in wanted):
            out[prefix + key] = value
        elif isinstance(value, InertGlobal):
            _collect(value, f"{prefix}{key}.", declared, out)
