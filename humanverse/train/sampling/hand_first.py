"""Hand-first sampling ("Giving a Hand", arXiv 2403.10731): hands first, then the body outpainted around them.

  1. Each hand of the pose (21 of the 133 keypoints, on the body canvas) gets a square box around its
     visible keypoints widened by `hand_margin`; its skeleton is drawn in that box at the hand model's
     resolution, and the hand model generates the hand image and its mask together.
  2. Each hand is resized back into its box on the canvas (hand_geometry.place); its mask (>= 0.5) becomes
     part of `keep`. Outside the hands the canvas is grey, the inpainting convention for "to be painted".
  3. The body model outpaints everything else from the full skeleton and the prompt, fusing the canvas's
     noised latents inside a keep region that shrinks over the schedule (train/common/mask_blending.py).

The body canvas is the pose image's largest centred square at the body model's resolution, as the
HyperHuman sampler frames a pose. Output folder:
  image.png              the result
  hands/{i}_{side}_skeleton.png, _rgb.png, _mask.png   each hand as generated, at the hand model's resolution
  canvas.png, canvas_mask.png, pose.png   what the body model was given
  sample.json            prompt, settings, checkpoints, hand boxes, the blend schedule per step; written last
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from humanverse.shards import atomic
from humanverse.train.common.checkpoints import trained_checkpoint
from humanverse.train.common.joint_crop import centre_square_box, crop_keypoints
from humanverse.train.hand.config import hand_caption
from humanverse.train.hand.hand_data import WHOLEBODY_HANDS
from humanverse.train.hand.hand_geometry import box_from_keypoints, crop_hand_keypoints, place, render_hand
from humanverse.train.sampling.condition_inputs import load_keypoints
from humanverse.train.common.mask_blending import BlendSchedule, schedule_record

log = logging.getLogger(__name__)

HAND_MARGIN = 0.25
"""Default widening of a hand box beyond its keypoints' extent, each side (docs/hands.md)."""


@dataclass
class HandFirstRequest:
    prompt: str
    output: str
    hand: str
    body: str
    keypoints: str
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 50
    guidance_scale: float = 7.5
    hand_steps: int = 50
    hand_guidance_scale: float = 7.5
    hand_guidance_rescale: float = 0.7
    conditioning_scale: float = 1.0
    erosion_per_step: float = BlendSchedule.erosion_per_step
    blend_stop: float = BlendSchedule.stop
    hand_margin: float = HAND_MARGIN
    use_ema: bool = True
    device: str = "cpu"
    dtype: str = "float32"


def _to_uint8(image: np.ndarray) -> np.ndarray:
    return (np.clip(image, 0, 1) * 255).round().astype(np.uint8)


def _save(array: np.ndarray, path: Path) -> None:
    Image.fromarray(array).save(path)


def plan_hands(persons: list[np.ndarray], hand_size: int, threshold: float, margin: float) -> list[dict]:
    """Every hand with >= 2 visible keypoints: its canvas box, keypoints in the crop, and skeleton."""
    plans = []
    for index, keypoints in enumerate(persons):
        for side, part in WHOLEBODY_HANDS.items():
            hand = keypoints[part]
            box = box_from_keypoints(hand, threshold, margin)
            if box is None:
                continue
            in_crop = crop_hand_keypoints(hand, box, hand_size)
            plans.append({"person": index, "side": side, "box": box, "keypoints": hand,
                          "skeleton": render_hand(in_crop, hand_size, threshold)})
    return plans


def compose_canvas(plans: list[dict], rgb: np.ndarray, masks: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """(canvas S x S x 3 float in [0, 1], grey outside the hands; keep S x S bool) from generated hands."""
    canvas = np.full((size, size, 3), 0.5, dtype=np.float32)
    keep = np.zeros((size, size), dtype=bool)
    for plan, hand_rgb, hand_mask in zip(plans, rgb, masks):
        inside = hand_mask >= 0.5
        place(canvas, hand_rgb.astype(np.float32), plan["box"], inside)
        placed = np.zeros((size, size), dtype=np.uint8)
        place(placed, np.ones(inside.shape, np.uint8), plan["box"], inside)  # the pixels written just above
        keep |= placed.astype(bool)
    return canvas, keep


@dataclass
class HandFirstModels:
    hand: object  # Stage1Model with rgb + mask branches
    body: object  # hand_body.outpaint.BodyModel
    hand_checkpoint: Path


def load_models(hand: str, body: str, use_ema: bool, device: str, dtype: str) -> HandFirstModels:
    from humanverse.train.hand.sample import load_hand_model
    from humanverse.train.hand_body.outpaint import load_body_model

    torch_dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[dtype]
    body_model = load_body_model(body, use_ema, device, torch_dtype)
    hand_checkpoint = trained_checkpoint(hand)
    return HandFirstModels(load_hand_model(hand_checkpoint, use_ema, device, torch_dtype), body_model, hand_checkpoint)


@dataclass
class HandFirstResult:
    image: np.ndarray  # S x S x 3 float in [0, 1]
    plans: list[dict]
    prompts: list[str]
    hand_rgb: np.ndarray  # (N, s, s, 3) in [0, 1]
    hand_masks: np.ndarray  # (N, s, s) in [0, 1]
    canvas: np.ndarray
    keep: np.ndarray
    pose: np.ndarray  # S x S x 3 float in [0, 1]
    blend: dict


def generate_hand_first(models: HandFirstModels, keypoints, request: HandFirstRequest) -> HandFirstResult:
    """The three steps for one pose (condition_inputs.Keypoints) and prompt; no files written."""
    from humanverse.train.hand.sample import sample_hand
    from humanverse.train.hand_body.outpaint import outpaint_body

    body, hand_model = models.body, models.hand
    schedule = BlendSchedule(request.erosion_per_step, request.blend_stop)
    size, hand_size = body.resolution, hand_model.cfg.data.resolution
    threshold = hand_model.cfg.data.keypoint_score_threshold
    frame = centre_square_box(keypoints.width, keypoints.height)
    persons = [crop_keypoints(kp, frame, size) for kp in keypoints.persons]
    plans = plan_hands(persons, hand_size, threshold, request.hand_margin)
    if not plans:
        raise ValueError(f"no hand with two or more keypoints scored >= {threshold}; hand-first sampling needs "
                         "at least one hand")
    skeletons = torch.from_numpy(np.stack([p["skeleton"] for p in plans])).permute(0, 3, 1, 2).float() / 255.0
    prompts = [hand_caption(hand_model.cfg.data.caption_template, p["side"], request.prompt) for p in plans]
    hands = sample_hand(hand_model, prompts, skeletons, request.hand_steps, request.hand_guidance_scale,
                        request.hand_guidance_rescale, request.negative_prompt,
                        generator=torch.Generator().manual_seed(request.seed))
    rgb = hands.rgb.permute(0, 2, 3, 1).float().cpu().numpy()
    masks = hands.mask[:, 0].float().cpu().numpy()
    canvas, keep = compose_canvas(plans, rgb, masks, size)
    pose = keypoints.pose_map(size, body.cfg.data.keypoint_score_threshold)
    canvas_t = torch.from_numpy(canvas).permute(2, 0, 1)[None]
    keep_t = torch.from_numpy(keep.astype(np.float32))[None, None]
    image = outpaint_body(body, request.prompt, pose, canvas_t, keep_t, schedule, request.steps,
                          request.guidance_scale, request.negative_prompt, request.conditioning_scale,
                          generator=torch.Generator().manual_seed(request.seed + 1))
    scale = body.base.vae_scale
    keep_latent = torch.nn.functional.interpolate(keep_t, size=(size // scale, size // scale), mode="nearest")
    return HandFirstResult(image[0].permute(1, 2, 0).numpy(), plans, prompts, rgb, masks, canvas, keep,
                           pose[0].permute(1, 2, 0).numpy(), schedule_record(keep_latent, schedule, request.steps))


def run_hand_first(request: HandFirstRequest) -> dict:
    """Run the request, write the output folder, return the sample.json record."""
    started = time.perf_counter()
    out = Path(request.output)
    (out / "hands").mkdir(parents=True, exist_ok=True)
    models = load_models(request.hand, request.body, request.use_ema, request.device, request.dtype)
    try:
        result = generate_hand_first(models, load_keypoints(request.keypoints), request)
    except ValueError as why:
        raise ValueError(f"{request.keypoints}: {why}") from None
    for index, (plan, hand_rgb, hand_mask) in enumerate(zip(result.plans, result.hand_rgb, result.hand_masks)):
        stem = f"{index}_{plan['side']}"
        _save(plan["skeleton"], out / "hands" / f"{stem}_skeleton.png")
        _save(_to_uint8(hand_rgb), out / "hands" / f"{stem}_rgb.png")
        _save(_to_uint8(hand_mask), out / "hands" / f"{stem}_mask.png")
    _save(_to_uint8(result.canvas), out / "canvas.png")
    _save(result.keep.astype(np.uint8) * 255, out / "canvas_mask.png")
    _save(_to_uint8(result.pose), out / "pose.png")
    _save(_to_uint8(result.image), out / "image.png")
    hand_cfg, body_cfg = models.hand.cfg.data, models.body.cfg.data
    record = {
        "method": "hand-first",
        "request": asdict(request),
        "hand": {"checkpoint": str(models.hand_checkpoint), "resolution": hand_cfg.resolution,
                 "keypoint_score_threshold": hand_cfg.keypoint_score_threshold},
        "body": {"checkpoint": str(models.body.checkpoint), "resolution": body_cfg.resolution,
                 "keypoint_score_threshold": body_cfg.keypoint_score_threshold},
        "hands": [{"person": p["person"], "side": p["side"], "prompt": prompt,
                   "box": [p["box"].x0, p["box"].y0, p["box"].x0 + p["box"].width, p["box"].y0 + p["box"].height],
                   "keypoints": np.round(p["keypoints"], 3).tolist()} for p, prompt in zip(result.plans, result.prompts)],
        "blend": result.blend,
        "seconds": round(time.perf_counter() - started, 3),
    }
    atomic.write_bytes(str(out / "sample.json"), json.dumps(record, indent=2, default=str).encode())
    log.info("wrote %s (%d hands)", out, len(result.plans))
    return record
