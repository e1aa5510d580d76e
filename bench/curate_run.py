"""One `humanverse curate` run, measured: the production `curate()` on an embedded local Ray, inside a
process-tree sampler. Every pipeline benchmark (e2e, layouts, scaling, the img2dataset comparison, memory)
is this script with a different config, each in a fresh process so that peak memory is the run's own.

Throughput, two ways (a task is one shard; its `stats.json` marker is written when the shard is done):
- steady: images of tasks 2..K over the time between the first and the last marker. This leaves out Ray's
  start, the actors' model loading and the first task's trip through an empty pipeline.
- total: all images over the whole call, start-up included (what a user waits for).
- median interval: images per task over the median time between consecutive markers. For a short run of a
  deep pipeline (the e2e runs: 4 tasks through 6 pools) first-to-last overstates the rate, because the last
  tasks were already part-way through the pools when the window opened (their last intervals are short);
  the median interval is the spacing the bottleneck pool sets.

    python bench/curate_run.py --parquet P --out DIR --name NAME [--preset humanverse] [--set k=v ...]
                               [--only-fetch] [--env K=V ...]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from pathlib import Path

import common
from tree_sampler import TreeSampler


def marker_times(out: Path) -> list[tuple[float, int, dict]]:
    """(mtime, input rows, stats) per completed shard, in completion order."""
    rows = []
    for marker in (out / "shards").glob("*.stats.json"):
        stats = json.loads(marker.read_text())
        rows.append((marker.stat().st_mtime, int(stats.get("input", 0)), stats))
    return sorted(rows, key=lambda r: r[0])


def throughput(markers, started: float, finished: float) -> dict:
    total_rows = sum(r[1] for r in markers)
    out = {"images": total_rows, "tasks": len(markers), "wall_s": finished - started,
           "total_img_per_s": total_rows / (finished - started)}
    if len(markers) >= 2:
        span = markers[-1][0] - markers[0][0]
        steady_rows = total_rows - markers[0][1]
        out.update(steady_s=span, steady_images=steady_rows, steady_img_per_s=steady_rows / span if span > 0 else None,
                   first_task_s=markers[0][0] - started,
                   task_intervals_s=[b[0] - a[0] for a, b in zip(markers, markers[1:])])
        median = statistics.median(out["task_intervals_s"])
        out["median_interval_img_per_s"] = total_rows / len(markers) / median if median > 0 else None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parquet", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", required=True, help="results go to bench/.out/<name>.json")
    parser.add_argument("--preset", default="humanverse")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    parser.add_argument("--only-fetch", action="store_true", help="keep only the fetch group (metadata, fetch, "
                        "decode, resolution) and the shard writer: the path img2dataset also covers")
    parser.add_argument("--env", action="append", default=[], help="K=V for this process and its Ray workers")
    parser.add_argument("--engine", default="ray", choices=("ray", "local"), help="curate's engine")
    args = parser.parse_args()

    for item in args.env:
        key, value = item.split("=", 1)
        os.environ[key] = value  # set before ray.init: the local raylet and its workers inherit it
    common.quiet_libraries()
    from humanverse.config import resolve
    from humanverse.engine import curate as curate_mod
    from humanverse.plan import build_stage_groups

    cfg = resolve(args.preset, None, args.overrides)
    if args.only_fetch:
        curate_mod.build_stage_groups = lambda c, allow: build_stage_groups(c, allow)[:1]
    shutil.rmtree(args.out, ignore_errors=True)

    from humanverse.console import make_console

    console = make_console(stderr=True)
    from humanverse.engine import ray_runtime

    init, init_s = ray_runtime.init, []

    def timed_init(*a, **k):  # how much of the start-up is Ray's own cluster start
        t0 = time.time()
        try:
            return init(*a, **k)
        finally:
            init_s.append(time.time() - t0)

    ray_runtime.init = timed_init
    load_start = common.load_avg()
    with TreeSampler() as sampler:
        started = time.time()
        result = curate_mod.curate(cfg, [args.parquet], str(args.out), allow_private_urls=True, console=console,
                                   engine=args.engine)
        finished = time.time()
    if not result.ok:
        raise SystemExit(f"curate failed: {result.failed}")
    markers = marker_times(args.out)
    stage_seconds: dict[str, float] = {}
    for _, _, stats in markers:
        for stage, s in stats.get("stage_seconds", {}).items():
            stage_seconds[stage] = stage_seconds.get(stage, 0.0) + s
    report = {
        "name": args.name, "overrides": args.overrides, "only_fetch": args.only_fetch, "env": args.env,
        "counts": result.summary.get("counts", {}), "load_avg_start": load_start,
        "load_avg_end": common.load_avg(), "ray_init_s": init_s[0] if init_s else None,
        **throughput(markers, started, finished), **sampler.result(), "stage_seconds": stage_seconds,
    }
    report["cpu_s_per_img"] = report["cpu_s"] / max(1, report["images"])
    if len(markers) >= 2:  # the steady window's CPU: what the pipeline costs per row once running, load aside
        steady_cpu = sampler.cpu_between(markers[0][0], markers[-1][0])
        report["steady_cpu_s_per_img"] = steady_cpu / report["steady_images"] if steady_cpu else None
        report["steady_cpu_s_by_process"] = sampler.cpu_by_process_between(markers[0][0], markers[-1][0])
    common.write_json(args.name, report)
    common.say(f"{args.name}: {report['images']} images, total {report['total_img_per_s']:.3f} img/s, "
               f"steady {report.get('steady_img_per_s') or float('nan'):.3f} img/s, "
               f"peak RSS {report['peak_rss_gib']:.2f} GiB, PSS {report['peak_pss_gib']:.2f} GiB")


if __name__ == "__main__":
    main()
