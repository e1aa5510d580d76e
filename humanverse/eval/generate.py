"""Generating eval images from held-out conditions: stage 1 alone, or stage 1 then the refiner.

Conditions reach each stage as at sampling (two_stage_sample.py): the pose drawn at each stage's resolution
with its run's keypoint threshold, stage-1 depth min-max renormalised per image, normals unit length.
Every sample has its own seed (eval seed, sample index), so a resumed eval makes the images an
uninterrupted one would have.
"""

from __future__ import annotations

import torch

from humanverse.eval.config import GenerationConfig
from humanverse.eval.heldout import HeldOut
from humanverse.train.sampling.condition_inputs import minmax_per_image, resize_map

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}


def sample_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


class EvalGenerator:
    def __init__(self, lsd: str, refiner: str | None, cfg: GenerationConfig, device: str = "cpu",
                 dtype: str = "float32"):
        from humanverse.train.lsd.sample import load_stage1
        from humanverse.train.refiner.sample import load_refiner

        self.cfg = cfg
        self.stage1 = load_stage1(lsd, cfg.use_ema, device, DTYPES[dtype])
        self.refiner = load_refiner(refiner, cfg.use_ema, device, DTYPES[dtype]) if refiner else None

    @property
    def size(self) -> int:
        """The generated images' side: the refiner's resolution, else stage 1's."""
        return self.refiner.resolution if self.refiner else self.stage1.cfg.data.resolution

    @torch.no_grad()
    def generate(self, item: HeldOut, seed: int) -> torch.Tensor:
        """(3, size, size) in [0, 1]."""
        from humanverse.train.lsd.sample import sample_lsd
        from humanverse.train.refiner.sample import sample_refiner

        cfg, stage1_cfg = self.cfg, self.stage1.cfg
        size1 = stage1_cfg.data.resolution
        pose = item.keypoints.pose_map(size1, stage1_cfg.data.keypoint_score_threshold)
        generator = torch.Generator().manual_seed(seed)
        out = sample_lsd(self.stage1, [item.caption], pose, cfg.steps, cfg.guidance_scale, cfg.guidance_rescale,
                         cfg.negative_prompt, generator=generator)
        if self.refiner is None:
            return out.rgb[0].float().cpu()
        size = self.refiner.resolution
        available = {
            "pose": item.keypoints.pose_map(size, self.refiner.cfg.data.keypoint_score_threshold),
            "depth": minmax_per_image(resize_map(out.depth.float(), size)),
            "normal": resize_map(out.normal.float(), size, is_normal=True),
        }
        conditions = {k: v for k, v in available.items() if k in self.refiner.condition_names}
        image = sample_refiner(self.refiner, [item.caption], conditions, cfg.refiner_steps, cfg.refiner_guidance_scale,
                               cfg.negative_prompt, generator=torch.Generator().manual_seed(seed + 1))
        return image[0].float().cpu()


class HandFirstEvalGenerator:
    """`--method hand-first`: each held-out pose's hands first, then the body (train/sampling/hand_first.py),
    with the generation section's settings (steps etc. for the hand model, refiner_* for the body model)."""

    def __init__(self, hand: str, body: str, cfg: GenerationConfig, device: str = "cpu", dtype: str = "float32"):
        from humanverse.train.sampling.hand_first import load_models

        self.cfg = cfg
        self.device, self.dtype = device, dtype
        self.models = load_models(hand, body, cfg.use_ema, device, dtype)

    @property
    def size(self) -> int:
        return self.models.body.resolution

    @torch.no_grad()
    def generate(self, item: HeldOut, seed: int) -> torch.Tensor:
        """(3, size, size) in [0, 1]; a pose without a usable hand is outpainted from an empty keep region."""
        from humanverse.train.sampling.hand_first import HandFirstRequest, generate_hand_first

        cfg = self.cfg
        request = HandFirstRequest(
            prompt=item.caption, output="", hand="", body="", keypoints="", negative_prompt=cfg.negative_prompt,
            seed=seed, steps=cfg.refiner_steps, guidance_scale=cfg.refiner_guidance_scale, hand_steps=cfg.steps,
            hand_guidance_scale=cfg.guidance_scale, hand_guidance_rescale=cfg.guidance_rescale,
            erosion_per_step=cfg.blend_erosion_per_step, blend_stop=cfg.blend_stop, hand_margin=cfg.hand_margin,
            use_ema=cfg.use_ema, device=self.device, dtype=self.dtype,
        )
        result = generate_hand_first(self.models, item.keypoints, request)
        return torch.from_numpy(result.image).permute(2, 0, 1).float()
