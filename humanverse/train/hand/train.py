"""Stage 1 of "Giving a Hand" (`humanverse train hand`): the joint expert-branch trainer on hand crops.

The hand image and its mask are the two modalities HyperHuman's stage-1 machinery denoises together
(train/lsd/train.py: same UNet, v-prediction objective, latent statistics, loop, checkpoints, EMA); the hand
skeleton takes the pose slot. Only the samples (hand_samples.decode_hand_crop) and the images each branch
sees differ.
"""

from __future__ import annotations

from pathlib import Path

import torch

from humanverse.train.common.loop import LoopResult
from humanverse.train.hand.config import HandConfig
from humanverse.train.hand.hand_samples import decode_hand_crop
from humanverse.train.lsd.train import JointTask, train_joint


def hand_images(batch: dict) -> dict[str, torch.Tensor]:
    """The two targets as 3-channel images in [-1, 1]: the hand crop, and its mask repeated on 3 channels."""
    return {"rgb": batch["image"], "mask": (batch["mask"] * 2 - 1).expand(-1, 3, -1, -1)}


HAND_TASK = JointTask("hand", hand_images, decode_hand_crop)


def train_hand(cfg: HandConfig, shards: str | list[str], run_dir: str | Path, resume: str | None = None) -> LoopResult:
    return train_joint(cfg, shards, run_dir, resume, HAND_TASK)
