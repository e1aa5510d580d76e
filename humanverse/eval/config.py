"""The eval config: which feature networks, which pose estimator, how pose accuracy is counted."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from humanverse.models.clip.clip_published import CLIP_ARCH, CLIP_FILE
from humanverse.stages.pose import PoseConfig
from humanverse.config_base import Section

INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
"""torch-fidelity's published InceptionV3 (the TF FID network converted), the file torchmetrics' FID loads."""
INCEPTION_SPEC = f"inception/{INCEPTION_FILE}"
CLIP_SPEC = "hf:timm/vit_large_patch14_clip_224.openai"


class FeatureConfig(Section):
    inception_weights: str = INCEPTION_SPEC
    """FID/KID InceptionV3 weights: a path (absolute or under the models directory); `models list` names it."""
    clip_arch: str = CLIP_ARCH
    clip_weights: str = CLIP_SPEC
    """open_clip state dict for CLIP score and FID on CLIP features: a file, a folder holding
    open_clip_model.safetensors, or hf:org/name in the local HF cache (the registry's OpenAI ViT-L/14)."""
    inception_dims: Literal[64, 192, 768, 2048] = 2048
    """Which InceptionV3 features FID/KID use: 2048 (pool3) is the standard; the smaller ones (torch-fidelity's
    earlier blocks) make tests fast, since FID's matrix square root costs O(dims³)."""
    kid_subset_size: int = Field(1000, ge=2)
    """KID's subset size (torchmetrics' default); capped at the number of samples."""
    batch_size: int = Field(16, ge=1)


class PoseAccuracyConfig(Section):
    pose: PoseConfig = PoseConfig()
    """The project's pose stage, any backend (mmpose/onnx ViTPose, or mediapipe where it is installed)."""
    pck_alpha: float = Field(0.2, gt=0)
    """PCK threshold: a keypoint is correct within pck_alpha x the condition box's long side."""
    keypoints: str = "body"
    """Which keypoints count: "body" (COCO 17) or "wholebody" (all 133)."""
    min_condition_score: float = Field(0.3, ge=0, le=1)
    """Condition keypoints below this score are not drawn and not scored (the loader's threshold)."""


class HandEvalConfig(Section):
    """--method hand-first: hand PCK and hand-crop FID/KID (humanverse/eval/hand_accuracy.py)."""

    pck_alpha: float = Field(0.2, gt=0)
    """A hand keypoint is correct within pck_alpha x the long side of the condition hand's tight keypoint box."""
    crop_size: int = Field(128, ge=16)
    """Side the hand crops are resized to before their Inception / CLIP features."""
    box_margin: float = Field(0.25, ge=0)
    """Hand crop box: the keypoints' extent widened by this much on each side (the sampler's rule)."""


class GenerationConfig(Section):
    steps: int = Field(50, ge=1)
    """DDIM steps, both stages (the paper: DDIM 50). hand-first: steps / guidance_scale / guidance_rescale are
    the hand model's, refiner_steps / refiner_guidance_scale the body model's."""
    guidance_scale: float = 7.5
    guidance_rescale: float = Field(0.7, ge=0, le=1)
    refiner_steps: int = Field(50, ge=1)
    refiner_guidance_scale: float = 7.5
    negative_prompt: str = ""
    use_ema: bool = True
    blend_erosion_per_step: float = Field(0.1, ge=0)
    """hand-first: sequential mask expansion (train/common/mask_blending.py)."""
    blend_stop: float = Field(0.6, ge=0, le=1)
    hand_margin: float = Field(0.25, ge=0)


class EvalConfig(Section):
    features: FeatureConfig = FeatureConfig()
    pose: PoseAccuracyConfig = PoseAccuracyConfig()
    generation: GenerationConfig = GenerationConfig()
    hands: HandEvalConfig = HandEvalConfig()
    models_dir: str | None = None
