"""Time every GPU stage of the humanverse preset on one GPU and write bench/GPU_RESULTS.md (bench/gpu_run.sh
wraps it with the wheel install a bare GPU machine needs).

Per stage (bench/gpu_stages.py): random real-size weights in the published formats, the stage object built
from the preset's config at the preset's batch sizes, model and stage seconds, peak GPU memory. Then
(bench/gpu_plan.py) GPU seconds per kept image under GPU.md's yields, and the `num_gpus` fractions that fit
every pool on one GPU (bench/gpu_report.py writes both). No Ray: the stages are called directly.

    python bench/gpu_run.py                        # on a GPU: real sizes, the preset's batch sizes
    python bench/gpu_run.py --device cpu --tiny    # the CPU check: tiny architectures, seconds per stage
    python bench/gpu_run.py --dry-run              # imports, what would run, GPU.md's plan through the report
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import gpu_plan  # noqa: E402
import gpu_report  # noqa: E402

ORDER = ("detect", "pose", "depth", "normal", "clip_scores", "outpaint")
"""Cheap stages first: a failure late in the run still leaves most of the table."""
ALWAYS_NEEDED = ["torch", "numpy", "PIL", "cv2", "yaml", "pydantic"]
SHIMS = BENCH / "gpu_shims"


def importable(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken or blocked package is as good as absent
        return False


def missing_modules(stages) -> dict[str, list[str]]:
    """Per stage, the modules that cannot be imported here (an empty dict when all can)."""
    from gpu_stages import STAGE_NEEDS

    def absent(names):
        return [n for n in names if not importable(n)]

    out = {}
    common = absent(ALWAYS_NEEDED)
    for stage in stages:
        gone = common + absent(STAGE_NEEDS[stage])
        if gone:
            out[stage] = gone
    return out


def use_xtcocotools_shim() -> bool:
    """mmpose 1.1 imports xtcocotools (COCO evaluation, a compiled wheel with no cp312 build on PyPI) at import
    time; inference never calls it. Where it is not installed, a shim that raises on use stands in."""
    if importable("xtcocotools"):
        return False
    sys.path.append(str(SHIMS))
    return True


def resolve(models_dir: Path, overrides: list[str], device: str):
    from humanverse.config import resolve as resolve_config

    cpu = [] if device == "cuda" else [f"{s}.resources.num_gpus=0" for s in
                                       ("detect", "pose", "depth", "normal", "clip", "outpaint")]
    return resolve_config("humanverse", None, [f"models_dir={models_dir}", *overrides, *cpu])


def device_info(device: str) -> dict:
    import torch

    info = {"device": device, "torch": torch.__version__, "python": platform.python_version(),
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    if device == "cuda":
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gib=round(props.total_memory / 2**30, 1), cuda=torch.version.cuda,
                    bf16=torch.cuda.is_bf16_supported())
    else:
        info["gpu"] = "none (CPU)"
    for name in ("transformers", "timm", "diffusers", "open_clip", "ultralytics", "mmpose", "pydantic"):
        try:
            info[name] = getattr(__import__(name), "__version__", "?")
        except Exception:  # noqa: BLE001 - reported, not fatal
            info[name] = "not importable"
    return info


def run_stage(stage: str, args, root: Path, cuda: bool, images: list, seconds: float):
    import gpu_stages

    sizes = gpu_stages.Sizes(args.tiny)
    t0 = time.perf_counter()
    overrides = gpu_stages.build(stage, root, sizes)
    build_s = time.perf_counter() - t0
    cfg = resolve(root, overrides, args.device)
    cursor = [0]

    def make_batch(n: int) -> list:
        picked = [images[(cursor[0] + k) % len(images)] for k in range(n)]
        cursor[0] += n
        return gpu_stages.make_samples(picked, args.persons_per_kept, f"{stage}-")

    return gpu_stages.time_stage(stage, cfg, make_batch, seconds, args.max_batches, cuda, build_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--tiny", action="store_true", help="tiny architectures (the CPU check), not the real sizes")
    parser.add_argument("--dry-run", action="store_true", help="no models: imports, plan, GPU.md's FLOP plan as a report")
    parser.add_argument("--only", default=",".join(ORDER), help="comma-separated stages")
    parser.add_argument("--models-dir", type=Path, default=None, help="where random weights are written (reused)")
    parser.add_argument("--out", type=Path, default=None, help="report path (default: bench/GPU_RESULTS.md on a GPU)")
    parser.add_argument("--json", type=Path, default=None, help="raw results (default: beside --out, .json)")
    parser.add_argument("--image-size", type=int, nargs=2, default=None, metavar=("W", "H"))
    parser.add_argument("--seconds", type=float, default=None, help="timed seconds per stage after its warm-up")
    parser.add_argument("--max-batches", type=int, default=50)
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="start no new stage after this many seconds (the device run must end within 8 min)")
    y = gpu_plan.Yields()
    parser.add_argument("--detect-per-kept", type=float, default=y.detect_per_kept)
    parser.add_argument("--clip-per-kept", type=float, default=y.clip_per_kept)
    parser.add_argument("--persons-per-kept", type=float, default=y.persons_per_kept)
    parser.add_argument("--dense-per-kept", type=float, default=y.dense_per_kept)
    parser.add_argument("--outpaint-share", type=float, default=y.outpaint_share)
    args = parser.parse_args(argv)
    started = time.perf_counter()

    stages = [s for s in args.only.split(",") if s]
    unknown = set(stages) - set(ORDER)
    if unknown:
        parser.error(f"unknown stages {sorted(unknown)}; known: {', '.join(ORDER)}")
    stages = [s for s in ORDER if s in stages]
    yields = gpu_plan.Yields(args.detect_per_kept, args.clip_per_kept, args.persons_per_kept, args.dense_per_kept,
                             args.outpaint_share)
    real_gpu = args.device == "cuda" and not args.tiny and not args.dry_run
    out = args.out or (BENCH / "GPU_RESULTS.md" if real_gpu else BENCH / ".out" / (
        "GPU_RESULTS.dry-run.md" if args.dry_run else f"GPU_RESULTS.{args.device}{'-tiny' if args.tiny else ''}.md"))
    json_path = args.json or out.with_suffix(".json")
    width, height = args.image_size or ((160, 120) if args.tiny else (768, 512))
    seconds = args.seconds if args.seconds is not None else (0.0 if args.tiny else 6.0)

    shimmed = use_xtcocotools_shim()
    missing = missing_modules(stages)
    for stage, names in missing.items():
        print(f"MISSING for {stage}: {', '.join(names)} (carry their wheels: bench/gpu_wheels.sh, then bench/gpu_run.sh)",
              file=sys.stderr, flush=True)
    results = {
        "mode": "dry-run" if args.dry_run else ("tiny" if args.tiny else "real"),
        "yields": yields.as_dict(), "image_size": [width, height], "stages": [], "notes": [],
        "plan_seconds_per_unit": gpu_plan.plan_seconds_per_unit(),
    }
    if shimmed:
        results["notes"].append("xtcocotools was not installed: bench/gpu_shims stood in (mmpose imports it for "
                                "COCO evaluation only; pose inference never calls it).")
    if args.dry_run:
        results["machine"] = {"device": args.device, "gpu": "none (dry run)", "python": platform.python_version(),
                              "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
        results["missing"] = missing
        for stage in stages:
            print(f"would build and time {stage} ({gpu_plan.UNIT[stage]}s) at {width}x{height}")
        return _finish(results, out, json_path, started, exit_code=0)

    import torch

    cuda = args.device == "cuda"
    if cuda and not torch.cuda.is_available():
        print("--device cuda but torch sees no GPU here; use --device cpu --tiny for the CPU check", file=sys.stderr)
        return 2
    results["machine"] = device_info(args.device)
    root = args.models_dir or (Path("/tmp/humanverse-gpu-models") if real_gpu else BENCH / ".out" / "gpu-models-tiny")
    root.mkdir(parents=True, exist_ok=True)
    import gpu_stages

    images = gpu_stages.synthetic_images(32, width, height)
    for stage in stages:
        label = stage
        if stage in missing:
            timing = gpu_stages.StageTiming(stage=label, unit=gpu_plan.UNIT[stage], batch_size=0,
                                            error="missing modules: " + ", ".join(missing[stage]))
        elif time.perf_counter() - started > args.budget_s:
            timing = gpu_stages.StageTiming(stage=label, unit=gpu_plan.UNIT[stage], batch_size=0,
                                            error=f"skipped: past the {args.budget_s:.0f} s budget")
        else:
            print(f"[{time.perf_counter() - started:5.0f} s] {label}: build + time", flush=True)
            try:
                timing = run_stage(stage, args, root, cuda, images, seconds)
            except Exception as exc:  # noqa: BLE001 - one broken stage must not lose the others' numbers
                traceback.print_exc()
                timing = gpu_stages.StageTiming(stage=label, unit=gpu_plan.UNIT[stage], batch_size=0,
                                                error=f"{type(exc).__name__}: {str(exc)[:300]}")
            gc.collect()  # the stage's models go before the next stage's peak memory is measured
            if cuda:
                torch.cuda.empty_cache()
        row = gpu_report.timing_row(timing)
        results["stages"].append(row)
        print(json.dumps(row), flush=True)
        _write(results, out, json_path, started)  # so that a run stopped by its time cap still leaves a report
    failed = [r["stage"] for r in results["stages"] if r.get("error")]
    return _finish(results, out, json_path, started, exit_code=3 if failed else 0)


def _write(results: dict, out: Path, json_path: Path, started: float) -> None:
    """Both files, each written beside its final name and renamed into place (never half-written)."""
    from humanverse.shards import atomic

    results["wall_s"] = round(time.perf_counter() - started, 1)
    for path, text in ((json_path, json.dumps(results, indent=1)), (out, gpu_report.render(results))):
        atomic.write_bytes(str(path), text.encode())


def _finish(results: dict, out: Path, json_path: Path, started: float, exit_code: int) -> int:
    _write(results, out, json_path, started)
    print(f"wrote {out} and {json_path} in {results['wall_s']} s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
