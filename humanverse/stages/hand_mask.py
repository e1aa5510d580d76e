"""The `hand_mask.png` member: which pixels are hand, at the original image's size (255 hand, 0 not).

Two methods, picked per sample by what the run produced (docs/hands.md says how well each does):
- parts: body-part segmentation's hand classes (Sapiens2 Left_Hand 6, Right_Hand 15), where the `parts`
  stage ran: a per-pixel hand label, arms and sleeves excluded by the model itself;
- person_mask: the `mask` stage's person mask (any backend; >= 128 is person) inside the hand boxes. The box
  holds some forearm and, for hands in front of the body, the body behind them: an upper bound of the hand.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from humanverse.shards.encoding import decode_mask8

PERSON_THRESHOLD = 0.5
"""A person-mask pixel is person when its probability (8-bit / 255) is >= this (the mask's own encoding)."""


def encode_binary(mask: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8), mode="L").save(buf, format="PNG")
    return buf.getvalue()


def boxes_mask(boxes: list[list[float]], width: int, height: int) -> np.ndarray:
    """True inside any of the boxes (pixel centres inside [x0, x1) x [y0, y1))."""
    out = np.zeros((height, width), dtype=bool)
    for x0, y0, x1, y1 in boxes:
        c0, r0 = max(int(np.ceil(x0 - 0.5)), 0), max(int(np.ceil(y0 - 0.5)), 0)
        c1, r1 = min(int(np.ceil(x1 - 0.5)), width), min(int(np.ceil(y1 - 0.5)), height)
        out[r0:r1, c0:c1] = True
    return out


def from_person_mask(mask_png: bytes, boxes: list[list[float]]) -> np.ndarray:
    person = decode_mask8(mask_png) >= PERSON_THRESHOLD
    height, width = person.shape
    return person & boxes_mask(boxes, width, height)


def from_parts(parts_png: bytes, hand_classes: list[int]) -> np.ndarray:
    from humanverse.stages.parts import decode_classes

    return np.isin(decode_classes(parts_png), hand_classes)
