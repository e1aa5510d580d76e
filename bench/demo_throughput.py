"""Real-model CPU throughput (issue 18, item 2): the demo preset end to end with its trained models only
(the preset's person detector, MediaPipe BlazePose since issue 30's round; MediaPipe whole-body pose with the
hands refinement) and the shard writer, every other stage off, against its bound, as in RESULTS.md section 2.
The group labels name the configured backends.

- Input: every shared photo, ROWS rows cycling over them, tasks of ROWS_PER_TASK rows (the demo preset's
  16). As on real data, the detector and the person rule drop most of them: only the photos with a person
  that passes the rule reach pose. (The preset's rule keeps few of the shared photos: HOG's boxes are small.)
- The bound: every pool shares the same cores, so bound = cores / sum over the stage groups of their
  CPU-seconds per input row, each group measured alone at its configured micro-batch on the same photos in
  the same proportions (fetch + decode + filters from the same loopback server; detect = the detector + person rule
  + pHash on what fetch kept; pose = MediaPipe pose (+ hands) on the boxes of what detect kept; write = one shard
  of all the rows). Same process-CPU measure as bench/stages.py.
- e2e: `humanverse curate --preset demo` with those overrides on an embedded 2-CPU Ray (bench/curate_run.py):
  steady img/s = rows of tasks 2..K over the time from the first to the last shard marker.

    .venv/bin/python bench/demo_throughput.py [--rows 384] [--runs 3]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import common
import photos
import stages as bench_stages
from pipelines import curate_run

ROWS_PER_TASK = 16
REAL_ONLY = ["aesthetic.enabled=false", "nsfw.enabled=false", "outpaint.mode=never", "depth=null", "normal=null",
             "mask=null", "parts=null", "clip.keep_embeddings=false", "run.num_cpus=2", "run.progress=false"]
TARGET = 0.85


def demo_overrides(rows_per_task: int = ROWS_PER_TASK) -> list[str]:
    return REAL_ONLY + [f"input.rows_per_task={rows_per_task}"]


def per_stage(cfg, parquet: Path, runs: int) -> list[dict]:
    """CPU-seconds per input row of each group alone, at the configured micro-batches."""
    from humanverse.core.task import TaskPayload, TaskSpec
    from humanverse.plan import build_stage_groups
    from humanverse.shards.writer import write_shard

    groups = {g.name: g for g in build_stage_groups(cfg, allow_private_urls=True)}
    pose_group = next(name for name, g in groups.items() if any(s.name == "pose" for s in g.stages))
    rows = bench_stages.read_samples(parquet)
    out = []
    fetch, detect, pose = groups["fetch"].stages, groups["detect"].stages, groups[pose_group].stages
    # per input row: measure() divides by all the rows it is given, and stages see only the alive ones
    out.append(bench_stages.measure("fetch + decode + filters", fetch, rows, cfg.fetch.resources.batch_size, runs,
                                    "HTTP GET (loopback), safe decode, resolution", keeps_all=False))
    fetched = bench_stages.advance(fetch, rows, cfg.fetch.resources.batch_size)
    detect_label = f"detect ({cfg.detect.backend}) + person rule + pHash"
    pose_label = f"pose group ({' + '.join(s.name for s in pose)}; {cfg.pose.backend})"
    out.append(bench_stages.measure(detect_label, detect, fetched, cfg.detect.resources.batch_size, runs,
                                    f"the preset's {cfg.detect.backend} detector, trained", keeps_all=False))
    people = bench_stages.advance(detect, fetched, cfg.detect.resources.batch_size)
    out.append(bench_stages.measure(pose_label, pose, people, cfg.pose.resources.batch_size, runs,
                                    "per kept person box: body, face, hands; trained", keeps_all=False))
    posed = bench_stages.advance(pose, people, cfg.pose.resources.batch_size)
    for stage, alive in (("fetch + decode + filters", fetched), (detect_label, people)):
        next(r for r in out if r["stage"] == stage)["kept"] = sum(s.alive for s in alive)
    scratch = Path(tempfile.mkdtemp(prefix="hv-demo-write-"))
    try:
        def write_once():
            task = TaskPayload(TaskSpec("00000-00000", str(parquet), "laion", 0, len(posed)), bench_stages.copies(posed))
            write_shard(str(scratch), task)

        write_once()  # warm-up
        t = common.timed_runs(write_once, runs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    n = len(posed)
    out.append({"stage": "write", "note": "one shard (tar + parquet + stats)", "images": n,
                "batchN": {"cpu_s_per_img": t["cpu_s"] / n, "wall_s_per_img": t["wall_s"] / n, "runs": runs}})
    return out


def main() -> None:
    from humanverse.config import resolve

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=384)
    parser.add_argument("--runs", type=int, default=3, help="repeats of each per-stage timing (median)")
    parser.add_argument("--e2e-runs", type=int, default=1)
    parser.add_argument("--engine", default="ray", choices=("ray", "local"), help="curate's engine for the e2e runs")
    args = parser.parse_args()
    common.quiet_libraries()
    start = common.machine()
    cfg = resolve("demo", None, demo_overrides())
    chosen = photos.photos()
    with photos.serve(photos.photo_dir()) as base:
        stage_pq = photos.write_laion(common.OUT / "inputs" / "demo-photos.parquet", base, chosen, len(chosen))
        e2e_pq = photos.write_laion(common.OUT / "inputs" / "demo-e2e.parquet", base, chosen, args.rows)
        stages = per_stage(cfg, stage_pq, args.runs)
        e2e = [curate_run(f"demo-e2e-{run}", e2e_pq, demo_overrides(), preset="demo", engine=args.engine)
               for run in range(args.e2e_runs)]
    cpu = sum(s["batchN"]["cpu_s_per_img"] for s in stages)
    cores = start["cores"]
    steady = common.median([r.get("steady_img_per_s") for r in e2e])
    result = {"rows": args.rows, "rows_per_task": ROWS_PER_TASK, "photos": [p.name for p in chosen],
              "stages": stages, "bound_img_per_s": cores / cpu, "cpu_s_per_img": cpu, "cores": cores,
              "e2e": e2e, "steady_img_per_s": steady, "ratio": steady / (cores / cpu),
              "machine_start": start, "machine_end": common.machine(), "overrides": demo_overrides(),
              "engine": args.engine}
    common.write_json("demo", result)
    common.say(f"per input row CPU-s: {[(s['stage'], round(s['batchN']['cpu_s_per_img'], 4), s.get('kept')) for s in stages]}")
    common.say(f"demo e2e {steady:.2f} img/s vs bound {cores / cpu:.2f} img/s: {result['ratio']:.2f} "
               f"(target >= {TARGET})")


if __name__ == "__main__":
    main()
