"""The published ViTPose checkpoints, read into mmpose 1.x and written back for demo/test weights.

ViTPose's authors publish mmpose-0.x checkpoints of their own ViT: `state_dict` with `backbone.blocks.N.*`
(timm-style names), `backbone.last_norm`, `backbone.pos_embed` of 1 + H*W positions, and
`keypoint_head.deconv_layers.*` / `keypoint_head.final_layer.*`. mmpose 1.x builds the backbone from
mmpretrain (`backbone.layers.N.ln1/attn/ffn`, `backbone.ln1`) and names the head `head.*`.

One difference is not a rename: ViTPose adds the class-token position to every patch position
(`x + pos_embed[:, 1:] + pos_embed[:, :1]`) while mmpretrain, given 1 + H*W positions, drops the first.
Converting therefore folds it in: pos = pos[:, 1:] + pos[:, :1]. Loading the published file straight into
mmpose 1.x would silently shift every patch embedding.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from humanverse.models.checkpoint_io import load_torch_file

# (published prefix, mmpose 1.x prefix) for every parameter that only changes name; {n} is a block index.
_PREFIXES = [
    ("backbone.patch_embed.proj.", "backbone.patch_embed.projection."),
    ("backbone.blocks.{n}.norm1.", "backbone.layers.{n}.ln1."),
    ("backbone.blocks.{n}.norm2.", "backbone.layers.{n}.ln2."),
    ("backbone.blocks.{n}.attn.", "backbone.layers.{n}.attn."),
    ("backbone.blocks.{n}.mlp.fc1.", "backbone.layers.{n}.ffn.layers.0.0."),
    ("backbone.blocks.{n}.mlp.fc2.", "backbone.layers.{n}.ffn.layers.1."),
    ("backbone.last_norm.", "backbone.ln1."),
    ("keypoint_head.", "head."),
]


def _rules(pairs) -> list[tuple[str, str]]:
    """(regex, replacement) from (prefix, prefix) pairs: {n} matches digits on the left, is kept on the right."""
    return [("^" + re.escape(old).replace(re.escape("{n}"), r"(\d+)"), new.replace("{n}", r"\1")) for old, new in pairs]


_RENAMES = _rules(_PREFIXES)
_BACK = _rules([(mm, published) for published, mm in _PREFIXES])


def _rename(key: str, rules) -> str:
    for pattern, repl in rules:
        new, n = re.subn(pattern, repl, key)
        if n:
            return new
    return key


def is_published_layout(state_dict: dict) -> bool:
    return any(k.startswith(("keypoint_head.", "backbone.blocks.")) for k in state_dict)


def published_to_mmpose1(state_dict: dict) -> dict:
    """ViTPose-repo (mmpose 0.x) keys -> mmpose 1.x keys; a 1.x state dict passes through unchanged."""
    if not is_published_layout(state_dict):
        return dict(state_dict)
    out = {}
    for key, value in state_dict.items():
        if key == "backbone.pos_embed":
            value = value[:, 1:] + value[:, :1]
        out[_rename(key, _RENAMES)] = value
    return out


def mmpose1_to_published(state_dict: dict) -> dict:
    """mmpose 1.x keys -> the published layout; the class-token position is written as zeros."""
    out = {}
    for key, value in state_dict.items():
        if key == "backbone.pos_embed":
            value = torch.cat([torch.zeros_like(value[:, :1]), value], dim=1)
        out[_rename(key, _BACK)] = value
    return out


IMPORT_HINT = "convert the published file with `humanverse models import vitpose-h-wholebody FILE`"


def read_published(path: str | Path) -> dict:
    """The state dict of a ViTPose checkpoint file, converted to mmpose 1.x names.

    Reads what `models import` writes (.safetensors) and safe hand-placed .pth files (weights_only); a ViTPose++
    mixture-of-experts state dict placed by hand is reduced to its whole-body expert the way the importer does.
    """
    from humanverse.models.importers.vitpose import _EXPERT, wholebody_state

    try:
        if Path(path).suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            ckpt = load_torch_file(path)
            state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
    except Exception as exc:  # noqa: BLE001 - unreadable: say how to get the right file
        raise ValueError(f"{path}: missing or wrong format for a ViTPose checkpoint ({exc}); {IMPORT_HINT}") from exc
    state = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state.items()}
    if any(_EXPERT.search(k) for k in state) or any(k.startswith("associate_keypoint_heads.") for k in state):
        state, _done = wholebody_state(state)
    return published_to_mmpose1(state)


def load_into(model: torch.nn.Module, path: str | Path, assign: bool = False) -> None:
    """Load a published (or mmpose 1.x) ViTPose checkpoint into an mmpose 1.x model, strictly.

    Names and shapes are compared first, so a checkpoint of another arch (or ViTPose+ experts) is one clear
    error instead of mmpretrain's position-embedding resize assertion. `assign` puts the checkpoint's tensors
    in place of the model's (cast to the model's dtypes): for a model built on the meta device.
    """
    state = read_published(path)
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [f"{k} {tuple(state[k].shape)}!={tuple(v.shape)}" for k, v in own.items() if k in state and state[k].shape != v.shape]
    if missing or unexpected or wrong:
        raise ValueError(
            f"{path}: not a ViTPose whole-body checkpoint for this arch; missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}, wrong shapes {wrong[:5]}; {IMPORT_HINT}"
        )
    if assign:
        state = {k: v.to(own[k].dtype) for k, v in state.items()}
    model.load_state_dict(state, strict=True, assign=assign)


def write_published(state_dict_1x: dict, path: str | Path, note: str = "") -> None:
    """Save an mmpose 1.x state dict as the ViTPose authors publish theirs ({'meta', 'state_dict'})."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ckpt = {"meta": {"mmpose_version": "0.24.0", "note": note}, "state_dict": mmpose1_to_published(state_dict_1x)}
    torch.save(ckpt, path)
