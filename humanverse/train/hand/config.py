"""The hand generator's config (stage 1 of "Giving a Hand", arXiv 2403.10731): HyperHuman's stage-1 config
with two expert branches, rgb and mask, and hand-crop data.

It is LSDConfig with another modality list and data section, because the model, objective, loop and
checkpoints are the same code (humanverse/train/lsd/): the joint expert-branch UNet denoises the hand image
and its mask together, conditioned on the rendered 21-point hand skeleton (in the pose slot) and the text.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field


from humanverse.train.common.config import DataConfig
from humanverse.train.lsd.config import LSDConfig, LSDObjectiveConfig


class HandDataConfig(DataConfig):
    """Which hands become training samples, and how they are cropped and captioned (docs/hands.md)."""

    resolution: int = Field(256, ge=16)
    min_hand_side: float = Field(32.0, ge=1)
    """Hands whose box side is below this many original-image pixels are not trained on (too few pixels)."""
    min_visible_frac: float = Field(0.5, ge=0, le=1)
    """Hands with a smaller fraction of their 21 keypoints visible are not trained on."""
    mask_dilation: float = Field(0.08, ge=0, le=1)
    """Keypoint-drawn mask (no hand_mask.png member): hull of the keypoints dilated by this x the box side."""
    caption_template: str = "a photo of a {side} hand"
    """The hand generator's text; {side} and {caption} (the image's caption) are filled in. Sampling uses the
    same template with the user's prompt as {caption}."""


class HandObjectiveConfig(LSDObjectiveConfig):
    MODALITIES: ClassVar[tuple[str, ...]] = ("rgb", "mask")
    modality_weights: dict[str, float] = {"rgb": 1.0, "mask": 1.0}


class HandConfig(LSDConfig):
    objective: HandObjectiveConfig = HandObjectiveConfig()
    data: HandDataConfig = HandDataConfig()


def hand_caption(template: str, side: str, caption: str) -> str:
    return template.format(side=side, caption=caption).strip()



