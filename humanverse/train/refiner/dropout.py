"""Random condition dropout for the refiner: a caption becomes "" and a condition map becomes zeros.

HyperHuman drops each condition at 50% while training the refiner, so that at sampling time any subset of
(text, pose, depth, normal) can be given: an absent map is fed as zeros, which the model has seen half the
time, and "" is the unconditional branch of classifier-free guidance. Each map is dropped independently of
the others and of the text, per sample, so every combination occurs during training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Dropped:
    captions: list[str]
    maps: dict[str, torch.Tensor]
    text_mask: torch.Tensor  # (B,) bool, True where the caption was dropped
    map_masks: dict[str, torch.Tensor]  # name -> (B,) bool, True where that map was zeroed


def drop_conditions(
    captions: list[str],
    maps: dict[str, torch.Tensor],
    text_rate: float,
    map_rate: float,
    generator: torch.Generator | None = None,
) -> Dropped:
    """Drop captions and maps at the given rates; draws come from `generator` (CPU) for reproducibility."""
    batch = len(captions)
    text_mask = torch.rand(batch, generator=generator) < text_rate
    kept_captions = ["" if drop else caption for caption, drop in zip(captions, text_mask.tolist())]
    dropped_maps, map_masks = {}, {}
    for name, value in maps.items():
        mask = torch.rand(batch, generator=generator) < map_rate
        where = mask.to(value.device).view(-1, *([1] * (value.ndim - 1)))
        dropped_maps[name] = torch.where(where, torch.zeros_like(value), value)
        map_masks[name] = mask
    return Dropped(kept_captions, dropped_maps, text_mask, map_masks)
