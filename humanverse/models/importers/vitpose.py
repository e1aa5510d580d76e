"""ViTPose and ViTPose++ (mixture-of-experts) checkpoints -> one whole-body ViTPose in the authors' key layout.

ViTPose++ (ViTAE-Transformer/ViTPose, mmpose/models/backbones/vit_moe.py) splits each block's fc2 into a shared
part (`mlp.fc2`, embed - part_features rows) and per-dataset experts (`mlp.experts.E`, part_features rows) whose
outputs are concatenated; the heads are `keypoint_head` (COCO, expert 0) and `associate_keypoint_heads.0-4`
(aic, mpii, ap10k, apt36k, wholebody = experts 1-5). The authors' tools/model_split.py makes a plain ViTPose for
dataset i by fc2 = cat(fc2, experts[i + 1]), keypoint_head <- associate_keypoint_heads.i, the final layer cut to
that dataset's keypoints. Its expert-key cleanup tests `'expert' in keys` (never true), so released split files
may still carry the expert keys; a fixed split drops them. All three inputs give the same output here.
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

from humanverse.models.importers.torch_checkpoint import read_checkpoint, tensors_only

WHOLEBODY_EXPERT = 5
WHOLEBODY_HEAD = 4
WHOLEBODY_KEYPOINTS = 133
_EXPERT = re.compile(r"\.mlp\.experts\.(\d+)\.")


def import_vitpose(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    ckpt, placeholders = read_checkpoint(path)
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else ckpt
    state = tensors_only(state, str(path))
    state = {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}
    state, converted = wholebody_state(state)
    return state, {"converted": converted, "inert_globals": placeholders}


def wholebody_state(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    """(whole-body ViTPose state dict, what was done) from a plain, raw-MoE or split-MoE state dict."""
    has_experts = any(_EXPERT.search(k) for k in state)
    has_associate = any(k.startswith("associate_keypoint_heads.") for k in state)
    out = {k: v for k, v in state.items() if not _EXPERT.search(k) and not k.startswith("associate_keypoint_heads.")}
    if has_associate:
        for key in [k for k in state if k.startswith(f"associate_keypoint_heads.{WHOLEBODY_HEAD}.")]:
            out["keypoint_head." + key.split(".", 2)[2]] = state[key]
        if not any(k.startswith(f"associate_keypoint_heads.{WHOLEBODY_HEAD}.") for k in state):
            raise ValueError(f"ViTPose++ checkpoint without associate_keypoint_heads.{WHOLEBODY_HEAD} (whole-body head)")
        merged = 0
        for key in [k for k in state if re.search(r"\.mlp\.fc2\.(weight|bias)$", k)]:
            expert_key = key.replace("mlp.fc2.", f"mlp.experts.{WHOLEBODY_EXPERT}.")
            if expert_key not in state:
                raise ValueError(f"ViTPose++ checkpoint: {expert_key} is missing (whole-body expert)")
            out[key] = torch.cat([state[key], state[expert_key]], dim=0)
            merged += 1
        done = (f"ViTPose++ (MoE) -> whole-body: expert {WHOLEBODY_EXPERT} merged into mlp.fc2 of {merged // 2} "
                f"blocks, associate_keypoint_heads.{WHOLEBODY_HEAD} -> keypoint_head, other experts and heads dropped")
    elif has_experts:
        done = "ViTPose++ split output (tools/model_split.py) -> leftover expert keys dropped"
    else:
        done = "plain ViTPose checkpoint -> state_dict only"
    _check_fc2_complete(out)
    final = out.get("keypoint_head.final_layer.weight")
    if final is None:
        raise ValueError("not a ViTPose checkpoint: no keypoint_head.final_layer.weight")
    if final.shape[0] > WHOLEBODY_KEYPOINTS and has_associate:  # as model_split.py does
        out["keypoint_head.final_layer.weight"] = final[:WHOLEBODY_KEYPOINTS]
        out["keypoint_head.final_layer.bias"] = out["keypoint_head.final_layer.bias"][:WHOLEBODY_KEYPOINTS]
    rows = out["keypoint_head.final_layer.weight"].shape[0]
    if rows != WHOLEBODY_KEYPOINTS:
        raise ValueError(f"this head predicts {rows} keypoints, not COCO-WholeBody's {WHOLEBODY_KEYPOINTS}: a split file "
                         "for another dataset (use wholebody.pth from tools/model_split.py, or the raw ViTPose++ file)")
    return {k: v.contiguous() for k, v in out.items()}, done


def _check_fc2_complete(state: dict[str, torch.Tensor]) -> None:
    """fc2 must map back to the embedding width; a shared-only fc2 means an unmerged MoE block."""
    for key, weight in state.items():
        m = re.match(r"(.*\.mlp\.)fc2\.weight$", key)
        if m and m.group(1) + "fc1.weight" in state and weight.shape[0] != state[m.group(1) + "fc1.weight"].shape[1]:
            raise ValueError(f"{key} has {weight.shape[0]} rows, the block is {state[m.group(1) + 'fc1.weight'].shape[1]} "
                             "wide: a ViTPose++ shared fc2 without its expert")
