"""bench/GPU_RESULTS.md from gpu_run.py's results: per-stage throughput and memory, GPU seconds per kept image
next to GPU.md's plan, and the `num_gpus` fractions that fit one GPU. A plain dict in, markdown out, so the
arithmetic can be checked without a GPU (tests/bench/test_gpu_plan.py)."""

from __future__ import annotations

import gpu_plan


def timing_row(t) -> dict:
    """A StageTiming as the JSON row the report reads."""
    def r(x, n=6):
        return None if x is None else round(x, n)

    return {
        "stage": t.stage, "unit": t.unit, "batch_size": t.batch_size, "dtype": t.dtype,
        "build_s": r(t.build_s, 1), "setup_s": r(t.setup_s, 1), "batches": t.batches, "units": t.units,
        "stage_s": r(t.stage_s, 4), "model_s": r(t.model_s, 4),
        "stage_s_per_unit": r(t.stage_s_per_unit, 7), "model_s_per_unit": r(t.model_s_per_unit, 7),
        "peak_allocated_gib": r(t.peak_allocated_gib, 2), "peak_reserved_gib": r(t.peak_reserved_gib, 2),
        "note": t.note, "error": t.error,
    }


def measured(results: dict, key: str) -> dict[str, float]:
    """Seconds per unit (key: model_s_per_unit or stage_s_per_unit) of the stages timed without error; variant
    rows ('detect (fp16)') are not stages of the preset and stay out of the sums."""
    return {row["stage"]: row[key] for row in results.get("stages", [])
            if row["stage"] in gpu_plan.STAGES and not row.get("error") and row.get(key)}


def summary(results: dict) -> dict:
    """Everything the report states, computed once: per kept image (measured model time, measured stage time,
    plan), totals, and the fractions."""
    yields = gpu_plan.Yields(**results["yields"])
    plan_unit = results.get("plan_seconds_per_unit") or gpu_plan.plan_seconds_per_unit()
    model_unit, stage_unit = measured(results, "model_s_per_unit"), measured(results, "stage_s_per_unit")
    out = {"plan": gpu_plan.per_kept(plan_unit, yields), "model": gpu_plan.per_kept(model_unit, yields),
           "stage": gpu_plan.per_kept(stage_unit, yields), "model_unit": model_unit}
    out["totals"] = {k: gpu_plan.totals(out[k]) for k in ("plan", "model", "stage")}
    complete = all(s in model_unit for s in gpu_plan.STAGES)
    out["complete"] = complete
    basis = out["model"] if complete else out["plan"]
    out["fractions_basis"] = "measured model seconds" if complete else "GPU.md's FLOP plan (not every stage measured)"
    out["fractions_with"] = gpu_plan.gpu_fractions(basis)
    out["fractions_without"] = gpu_plan.gpu_fractions({s: v for s, v in basis.items() if s != "outpaint"})
    out["tflops"] = gpu_plan.achieved_tflops(model_unit)
    return out


def _f(x, fmt="{:.5f}"):
    return "-" if x is None else fmt.format(x)


def render(results: dict) -> str:
    m, s = results.get("machine", {}), summary(results)
    gpu = m.get("gpu", "?")
    unit = "H100-s" if "H100" in gpu else f"GPU-s on {gpu}"
    lines = [
        "# GPU run (bench/gpu_run.sh)",
        "",
        f"Written by `bench/gpu_run.py` ({results['mode']}) on {m.get('date', '?')}: {gpu}, torch {m.get('torch', '?')}, "
        f"Python {m.get('python', '?')}; {results.get('wall_s', '?')} s wall for the whole run, model builds included.",
        "Random weights in the published formats (real architectures, real compute; the outputs mean nothing: an "
        "untrained YOLO boxes nobody, so its NMS is cheaper than a trained one's).",
        f"Synthetic {results['image_size'][0]} x {results['image_size'][1]} images; pose and outpaint get person "
        f"boxes ({results['yields']['persons_per_kept']} persons per image on average, the first cut by the bottom "
        "border so that `outpaint.mode: auto` grows it).",
    ]
    if results["mode"] != "real":
        lines += ["", f"**Not a GPU measurement ({results['mode']} mode):** the figures below check the plumbing and "
                  "the arithmetic; only a `real` run on a GPU replaces GPU.md's plan."]
    lines += [f"- {n}" for n in results.get("notes", [])]
    if results.get("missing"):
        lines += ["", "Modules missing here: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in results["missing"].items())]

    lines += ["", "## Per stage, at the preset's batch sizes", "",
              "model s = forward spans of the stage's networks (CUDA events); stage s = `process()` wall time, "
              "CPU pre/post-processing included (one actor).", "",
              "| stage | unit | batch | dtype | units timed | units/s (model) | units/s (stage) | model s/unit | "
              "achieved TFLOP/s | peak GPU GiB (alloc / reserved) | build s | setup s | note |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in results.get("stages", []):
        if row.get("error"):
            lines.append(f"| {row['stage']} | {row['unit']} | | | | | | | | | | | **not timed**: {row['error']} |")
            continue
        msu, ssu = row["model_s_per_unit"], row["stage_s_per_unit"]
        tf = s["tflops"].get(row["stage"])
        mem = "-" if row["peak_allocated_gib"] is None else f"{row['peak_allocated_gib']:.2f} / {row['peak_reserved_gib']:.2f}"
        lines.append(
            f"| {row['stage']} | {row['unit']} | {row['batch_size']} | {row['dtype']} | {row['units']:.0f} | "
            f"{_f(1 / msu if msu else None, '{:.1f}')} | {_f(1 / ssu if ssu else None, '{:.1f}')} | {_f(msu, '{:.5f}')} | "
            f"{_f(tf, '{:.0f}')} | {mem} | {row['build_s']} | {row['setup_s']} | {row.get('note', '')} |")

    peaks = [row["peak_reserved_gib"] for row in results.get("stages", [])
             if row["stage"] in gpu_plan.STAGES and not row.get("error") and row.get("peak_reserved_gib") is not None]
    if peaks:
        total, card = sum(peaks), m.get("gpu_memory_gib")
        fits = "" if card is None else (f" of the card's {card} GiB: the pools fit one GPU's memory together" if total < card
                                         else f" of the card's {card} GiB: they do NOT fit one GPU's memory together")
        lines += ["", f"Peak reserved memory summed over the timed stages (one actor each, as on one GPU): "
                  f"{total:.1f} GiB{fits}."]

    y = results["yields"]
    units = gpu_plan.Yields(**y).units_per_kept()
    lines += ["", f"## {unit} per kept image", "",
              f"Yields (GPU.md; flags of gpu_run.py): detection on {y['detect_per_kept']} images, CLIP on "
              f"{y['clip_per_kept']}, {y['persons_per_kept']} persons posed (flip test inside the stage), depth and "
              f"normals on {y['dense_per_kept']}, outpainting on {y['outpaint_share']:.0%} of kept images.", "",
              "| stage | units per kept image | measured, model | measured, stage wall | GPU.md plan (FLOPs at 346 TFLOP/s) |",
              "| --- | --- | --- | --- | --- |"]
    for stage in gpu_plan.STAGES:
        lines.append(f"| {stage} | {units[stage]:g} | {_f(s['model'].get(stage))} | {_f(s['stage'].get(stage))} | "
                     f"{_f(s['plan'].get(stage))} |")
    (pw, pwo), (mw, mwo), (sw, swo) = s["totals"]["plan"], s["totals"]["model"], s["totals"]["stage"]
    complete = "" if s["complete"] else " (partial: not every stage was timed)"
    lines += [f"| **total without outpainting** | | **{_f(mw if s['model'] else None)}**{complete} | {_f(sw if s['stage'] else None)} | {pw:.5f} |",
              f"| **total with outpainting** | | **{_f(mwo if s['model'] else None)}**{complete} | {_f(swo if s['stage'] else None)} | {pwo:.5f} |"]
    if s["model"] and s["complete"]:
        lines += ["", f"Measured: **{mw:.5f} {unit} per kept image without outpainting ({gpu_plan.kept_per_second(mw):.0f} "
                  f"kept images/s per GPU), {mwo:.5f} with it ({gpu_plan.kept_per_second(mwo):.0f}/s)**, against GPU.md's "
                  f"{pw:.5f} and {pwo:.5f}: {mw / pw:.2f}x and {mwo / pwo:.2f}x the plan."]

    lines += ["", "## `num_gpus` per pool that fit one GPU", "",
              f"From {s['fractions_basis']}: each pool's share of one GPU is its share of the GPU seconds per kept "
              "image (rounded down to 0.01, at least 0.01), so that every pool keeps pace and the shares sum to "
              "<= 1. The preset's flat 0.25 per model pool plus 1.0 for outpainting asks for 2.25 GPUs.", "",
              "| stage | outpainting on | outpainting off |", "| --- | --- | --- |"]
    for stage in gpu_plan.STAGES:
        lines.append(f"| {stage} | {_f(s['fractions_with'].get(stage), '{:.2f}')} | "
                     f"{_f(s['fractions_without'].get(stage), '{:.2f}')} |")
    lines.append(f"| sum | {sum(s['fractions_with'].values()):.2f} | {sum(s['fractions_without'].values()):.2f} |")
    return "\n".join(lines) + "\n"
