"""The GPU run's arithmetic (bench/gpu_plan.py, bench/gpu_report.py): GPU seconds per kept image from seconds per
unit and the yields, the num_gpus fractions that fit one GPU, and what the report states. No GPU, no models."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import gpu_plan  # noqa: E402
import gpu_report  # noqa: E402

MEASURED = {"detect": 0.002, "clip_scores": 0.001, "pose": 0.004, "depth": 0.003, "normal": 0.0015, "outpaint": 0.5}
# per kept image with GPU.md's yields: 5 x 0.002 + 1.25 x 0.001 + 1.5 x 0.004 + 0.003 + 0.0015 = 0.02175 s,
# and 0.3 x 0.5 = 0.15 s more with outpainting
WITHOUT, WITH = 0.02175, 0.17175


def test_the_flop_plan_gives_gpu_md_figures():
    without, with_outpaint = gpu_plan.totals(gpu_plan.per_kept(gpu_plan.plan_seconds_per_unit(), gpu_plan.Yields()))
    hand = (195 * 5 + 104 * 1.25 + 2 * 246 * 1.5 + 2 * 255 + 255) / 346e3  # GFLOPs / (GFLOP/s achieved)
    assert without == pytest.approx(hand, rel=1e-9)
    assert round(without, 4) == 0.0075 and round(with_outpaint, 3) == 0.039
    assert with_outpaint - without == pytest.approx(0.3 * 35_900 / 346e3, rel=1e-9)


def test_seconds_per_kept_image_scale_with_each_yield():
    per_kept = gpu_plan.per_kept(MEASURED, gpu_plan.Yields())
    assert per_kept["detect"] == pytest.approx(0.010) and per_kept["pose"] == pytest.approx(0.006)
    assert gpu_plan.totals(per_kept) == pytest.approx((WITHOUT, WITH))
    fewer = gpu_plan.Yields(detect_per_kept=2.5, outpaint_share=0.0)
    assert gpu_plan.totals(gpu_plan.per_kept(MEASURED, fewer)) == pytest.approx((WITHOUT - 0.005, WITHOUT - 0.005))
    partial = gpu_plan.per_kept({"detect": 0.002}, gpu_plan.Yields())
    assert partial == {"detect": pytest.approx(0.01)}


def test_fractions_follow_the_seconds_and_fit_one_gpu():
    assert gpu_plan.gpu_fractions({"a": 3.0, "b": 1.0}) == {"a": 0.75, "b": 0.25}
    tiny_pools = gpu_plan.gpu_fractions({"big": 1000.0, "x": 1.0, "y": 1.0})
    assert tiny_pools == {"big": 0.98, "x": 0.01, "y": 0.01}  # floors at 0.01, the excess from the largest
    fractions = gpu_plan.gpu_fractions(gpu_plan.per_kept(MEASURED, gpu_plan.Yields()))
    assert sum(fractions.values()) <= 1.0 + 1e-9
    assert fractions["outpaint"] == 0.87  # 0.15 / 0.17175 = 0.873, rounded down
    assert fractions["detect"] == 0.05  # 0.01 / 0.17175 = 0.058
    with pytest.raises(ValueError):
        gpu_plan.gpu_fractions({str(i): 1.0 for i in range(101)})


def _results(rows: list[dict], mode: str = "real") -> dict:
    return {"mode": mode, "yields": gpu_plan.Yields().as_dict(), "image_size": [768, 512], "notes": [],
            "machine": {"gpu": "NVIDIA H100 80GB HBM3", "torch": "2.11", "python": "3.12", "date": "today"},
            "plan_seconds_per_unit": gpu_plan.plan_seconds_per_unit(), "stages": rows, "wall_s": 300}


def _row(stage: str, s_per_unit: float, error: str | None = None) -> dict:
    return {"stage": stage, "unit": "image", "batch_size": 8, "dtype": "bfloat16", "build_s": 1, "setup_s": 1,
            "batches": 4, "units": 32, "stage_s": 1, "model_s": 1, "model_s_per_unit": s_per_unit,
            "stage_s_per_unit": 2 * s_per_unit, "peak_allocated_gib": 1.0, "peak_reserved_gib": 2.0, "note": "",
            "error": error}


def test_the_report_states_the_measured_totals_and_fractions():
    rows = [_row(s, t) for s, t in MEASURED.items()] + [_row("detect (fp16)", 0.0001)]
    text = gpu_report.render(_results(rows))
    assert f"**{WITHOUT:.5f} H100-s per kept image without outpainting" in text
    assert f"{WITH:.5f} with it" in text  # the fp16 variant row stays out of the sums
    assert "From measured model seconds" in text
    assert "| outpaint | 0.87 | - |" in text
    summary = gpu_report.summary(_results(rows))
    assert summary["totals"]["stage"] == pytest.approx((2 * WITHOUT, 2 * WITH))


def test_an_untimed_stage_makes_the_report_partial_and_the_fractions_the_plans():
    rows = [_row(s, t) for s, t in MEASURED.items() if s != "pose"] + [_row("pose", 0.004, error="OOM")]
    results = _results(rows)
    summary = gpu_report.summary(results)
    assert not summary["complete"] and "pose" not in summary["model"]
    assert summary["fractions_with"] == gpu_plan.gpu_fractions(summary["plan"])
    text = gpu_report.render(results)
    assert "**not timed**: OOM" in text and "partial" in text and "H100-s per kept image without" not in text


def test_other_gpus_are_not_called_h100():
    results = _results([_row(s, t) for s, t in MEASURED.items()])
    results["machine"]["gpu"] = "NVIDIA H200"
    assert "GPU-s on NVIDIA H200 per kept image" in gpu_report.render(results)


def test_the_humanverse_preset_fits_one_gpu():
    """Its GPU pools' num_gpus must sum to <= 1, or Ray cannot place them all on a one-GPU machine (the flat
    0.25 per pool + 1.0 for outpainting asked for 2.25)."""
    from humanverse.config import resolve

    cfg = resolve("humanverse", None, [])
    shares = {s: getattr(cfg, s).resources.num_gpus for s in ("detect", "pose", "depth", "normal", "clip", "outpaint")}
    assert all(v > 0 for v in shares.values()), shares
    assert sum(shares.values()) <= 1.0 + 1e-9, shares
    assert shares["outpaint"] == max(shares.values())  # the plan's biggest GPU consumer by far


def test_the_report_adds_up_memory_against_the_card():
    results = _results([_row(s, t) for s, t in MEASURED.items()])
    results["machine"]["gpu_memory_gib"] = 79.2
    assert "12.0 GiB of the card's 79.2 GiB: the pools fit" in gpu_report.render(results)  # 6 stages x 2.0
    results["machine"]["gpu_memory_gib"] = 10.0
    assert "do NOT fit" in gpu_report.render(results)
