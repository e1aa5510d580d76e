"""GPU seconds per kept image, from seconds per model call and the plan's yields; and the `num_gpus` fractions
that put every model pool of the humanverse preset on one GPU.

Pure arithmetic, no torch: bench/gpu_run.py feeds it what it measured on a GPU, bench/GPU.md's FLOP plan
feeds it estimates (PLAN_GFLOPS at PLAN_TFLOPS achieved), and tests/bench/test_gpu_plan.py checks both.

A "unit" is what one stage's cost scales with: an image looked at (detect, clip_scores, depth, normal), a
person (pose, flip test included: the stage does both forwards), or an outpainted image (outpaint).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

STAGES = ("detect", "clip_scores", "pose", "depth", "normal", "outpaint")
UNIT = {"detect": "image", "clip_scores": "image", "pose": "person", "depth": "image", "normal": "image",
        "outpaint": "outpainted image"}

PLAN_TFLOPS = 346.0
"""bench/GPU.md's assumption: 35% of the H100 SXM's dense BF16 peak (989 TFLOP/s) achieved."""

PLAN_GFLOPS = {
    "detect": 195.0,  # YOLO11x at 640 x 640
    "clip_scores": 104.0,  # CLIP ViT-L/14 image tower at 224 x 224 (the heads are negligible)
    "pose": 2 * 246.0,  # ViTPose-H at 256 x 192, flip test: two forwards per person
    "depth": 2 * 255.0,  # MiDaS + Omnidata DPT-hybrid at 384 x 384
    "normal": 255.0,  # Omnidata DPT-hybrid normals
    "outpaint": 35_900.0,  # SD-2-inpainting: 20 steps x 2 UNet rows + VAE encode/decode + 2 text encodings
}
"""FLOPs per unit as counted by bench/flops.py (GPU.md, "FLOPs per image")."""


@dataclass(frozen=True)
class Yields:
    """How many units of each stage one kept image costs (GPU.md, "Per kept image"); each is a data or config
    property, so each is a flag of gpu_run.py."""

    detect_per_kept: float = 5.0
    """Images detection runs on per kept image (HumanVerse kept ~20% after the metadata filters)."""
    clip_per_kept: float = 1.25
    """Person-rule survivors per kept image (aesthetic >= 4.5 then drops ~20%)."""
    persons_per_kept: float = 1.5
    """Persons posed per kept image (the rule keeps 1-3)."""
    dense_per_kept: float = 1.0
    """Depth and normal maps run once per kept image."""
    outpaint_share: float = 0.30
    """Kept images outpainted (`mode: auto`: a person touching a border)."""

    def units_per_kept(self) -> dict[str, float]:
        return {
            "detect": self.detect_per_kept,
            "clip_scores": self.clip_per_kept,
            "pose": self.persons_per_kept,
            "depth": self.dense_per_kept,
            "normal": self.dense_per_kept,
            "outpaint": self.outpaint_share,
        }

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def per_kept(seconds_per_unit: dict[str, float], yields: Yields) -> dict[str, float]:
    """GPU seconds each stage spends per kept image: seconds per unit x units per kept image. Stages without a
    measurement are left out (the caller reports them as missing)."""
    units = yields.units_per_kept()
    return {s: seconds_per_unit[s] * units[s] for s in STAGES if s in seconds_per_unit}


def totals(per_kept_s: dict[str, float]) -> tuple[float, float]:
    """(seconds per kept image without outpainting, with it)."""
    without = sum(v for s, v in per_kept_s.items() if s != "outpaint")
    return without, without + per_kept_s.get("outpaint", 0.0)


def plan_seconds_per_unit(tflops: float = PLAN_TFLOPS) -> dict[str, float]:
    """GPU.md's estimate: counted FLOPs at `tflops` achieved."""
    return {s: g * 1e9 / (tflops * 1e12) for s, g in PLAN_GFLOPS.items()}


def achieved_tflops(seconds_per_unit: dict[str, float]) -> dict[str, float]:
    """What a measurement implies the GPU achieved on each model: counted FLOPs / measured seconds."""
    return {s: PLAN_GFLOPS[s] / 1e3 / t for s, t in seconds_per_unit.items() if s in PLAN_GFLOPS and t > 0}


def gpu_fractions(per_kept_s: dict[str, float], step: float = 0.01, floor: float = 0.01) -> dict[str, float]:
    """`resources.num_gpus` per pool (one actor each) so that the pools share one GPU in proportion to their
    GPU seconds per kept image: every pool then keeps pace with the others, and the fractions sum to <= 1,
    so Ray can place them all on one GPU. Each share is rounded down to `step`, no pool gets less than
    `floor` (Ray needs a positive share), and any excess the floors cause is taken from the largest pool."""
    if not per_kept_s:
        return {}
    if step <= 0 or floor <= 0 or floor * len(per_kept_s) > 1:
        raise ValueError(f"cannot fit {len(per_kept_s)} pools of at least {floor} GPU each with step {step}")
    total = sum(per_kept_s.values())
    if total <= 0:
        raise ValueError("GPU seconds per kept image must be positive to share a GPU by them")
    units = round(1 / step)
    shares = {s: max(round(floor / step), math.floor(v / total * units + 1e-9)) for s, v in per_kept_s.items()}
    excess = sum(shares.values()) - units
    while excess > 0:
        largest = max(shares, key=shares.get)
        shares[largest] -= 1
        excess -= 1
    return {s: round(n * step, 6) for s, n in shares.items()}


def kept_per_second(seconds_per_kept: float) -> float:
    return 1.0 / seconds_per_kept if seconds_per_kept > 0 else float("inf")
