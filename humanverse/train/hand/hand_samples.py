"""Shard samples for the two hand methods, decoded by the hands contract (hand_data.py).

Stage 1 (`decode_hand_crop`): one hand per sample, drawn at random among the sample's usable hands, as a
square crop at data.resolution around the contract box: the hand image, its mask and its 21-point skeleton,
all through the same crop (hand_geometry.py).

Stage 2 (`decode_body_with_hands`): the whole image through the usual random crop (joint_crop.py), the
full-body skeleton with hands (pose_render.py), and `keep`, the hand pixels the body model is given and must
not repaint; everything outside them is what it learns to fill.

Both raise SkipSample with a reason the loader counts: a sample without a usable hand is not an error.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch

from humanverse.shards.untrusted import declared_size
from humanverse.train.common.joint_crop import crop_keypoints, crop_resize, random_crop_box, scale_keypoints
from humanverse.train.common.pose_render import NUM_KEYPOINTS, render_pose
from humanverse.train.common.shard_data import SkipSample, caption_of, read_image, read_meta
from humanverse.train.hand.config import HandDataConfig, hand_caption
from humanverse.train.hand.hand_data import BadHands, Hand, decode_hand_mask, mask_from_keypoints, read_hands
from humanverse.train.hand.hand_geometry import crop_hand_keypoints, crop_padded, render_hand, square_box


def _image_and_hands(raw: dict[str, Any], cfg: HandDataConfig):
    """(meta, image, usable hands in stored-image pixels, all hands in stored-image pixels, scale)."""
    for name in ("jpg", "json"):
        if name not in raw:
            raise SkipSample(f"missing_{name}")
    meta = read_meta(raw)
    try:
        hands = read_hands(meta)
    except BadHands:
        raise SkipSample("bad_hands") from None
    try:
        image = read_image(raw, cfg)
    except SkipSample:
        raise
    except Exception:  # noqa: BLE001 - an undecodable image makes the sample unusable, not the run
        raise SkipSample("decode_error") from None
    height, width = image.shape[:2]
    src_w, src_h = declared_size(meta, width, height)
    sx, sy = width / src_w, height / src_h
    usable = [h for h in hands
              if h.visible_frac >= cfg.min_visible_frac and max(h.box[2] - h.box[0], h.box[3] - h.box[1])
              >= cfg.min_hand_side]
    if (sx, sy) != (1.0, 1.0):
        hands = [h.scaled(sx, sy) for h in hands]
        usable = [h.scaled(sx, sy) for h in usable]
    if not usable:
        raise SkipSample("no_hands")
    return meta, image, usable, hands, (sx, sy)


def hand_mask(raw: dict[str, Any], hands: list[Hand], width: int, height: int, cfg: HandDataConfig) -> np.ndarray:
    """The member's hand mask, else the keypoint-drawn one (bool H x W)."""
    mask = decode_hand_mask(raw, width, height)
    if mask is None:
        mask = mask_from_keypoints(hands, width, height, cfg.keypoint_score_threshold, cfg.mask_dilation)
    return mask


def _mask_tensor(mask: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(mask)).float()[None] / 255.0


def decode_hand_crop(raw: dict[str, Any], cfg: HandDataConfig, rng: random.Random) -> dict[str, Any]:
    """image (3,S,S) in [-1, 1], mask (1,S,S) in [0, 1], pose (the hand skeleton, 3,S,S in [0, 1]), caption."""
    _, image, usable, hands, _ = _image_and_hands(raw, cfg)
    hand = rng.choice(usable)
    height, width = image.shape[:2]
    mask = hand_mask(raw, hands, width, height, cfg).astype(np.uint8) * 255
    box, size = square_box(*hand.box), cfg.resolution
    crop = crop_padded(image, box, size)
    skeleton = render_hand(crop_hand_keypoints(hand.keypoints, box, size), size, cfg.keypoint_score_threshold)
    return {
        "key": raw["__key__"],
        "caption": hand_caption(cfg.caption_template, hand.side, caption_of(raw)),
        "image": torch.from_numpy(crop).permute(2, 0, 1).float() / 127.5 - 1.0,
        "mask": _mask_tensor(crop_padded(mask, box, size)),
        "pose": torch.from_numpy(skeleton).permute(2, 0, 1).float() / 255.0,
    }


def decode_body_with_hands(raw: dict[str, Any], cfg: HandDataConfig, rng: random.Random) -> dict[str, Any]:
    """image (3,S,S) in [-1, 1], pose (full-body skeleton with hands), keep (1,S,S): 1 on hand pixels."""
    meta, image, _, hands, (sx, sy) = _image_and_hands(raw, cfg)
    try:
        persons = [np.asarray(p["keypoints"], dtype=np.float32).reshape(NUM_KEYPOINTS, 3) for p in meta["persons"]]
    except (KeyError, ValueError, TypeError):
        raise SkipSample("no_keypoints") from None
    if (sx, sy) != (1.0, 1.0):
        persons = [scale_keypoints(kp, sx, sy) for kp in persons]
    height, width = image.shape[:2]
    keep = hand_mask(raw, hands, width, height, cfg).astype(np.uint8) * 255
    box = random_crop_box(width, height, cfg.crop_scale, cfg.crop_ratio, rng)
    size = cfg.resolution
    pose = render_pose([crop_keypoints(kp, box, size) for kp in persons], size, size,
                       score_threshold=cfg.keypoint_score_threshold)
    return {
        "key": raw["__key__"],
        "caption": caption_of(raw),
        "image": torch.from_numpy(crop_resize(image, box, size)).permute(2, 0, 1).float() / 127.5 - 1.0,
        "pose": torch.from_numpy(pose).permute(2, 0, 1).float() / 255.0,
        "keep": (_mask_tensor(crop_resize(keep, box, size)) >= 0.5).float(),
    }
