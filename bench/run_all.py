"""The benchmark, one command: builds what is missing, measures everything, writes bench/RESULTS.md.

    .venv/bin/python bench/run_all.py            # ~14 min on an idle 2-core machine (first run +2 min: models)
    .venv/bin/python bench/run_all.py --runs 1   # a quicker look; RESULTS.md says how many runs it used

Steps (each in fresh processes; results in bench/.out/*.json):
 1. models: real-size architectures, random weights (bench/models.py), and img2dataset's own venv;
 2. inputs: photos served on 127.0.0.1 (bench/photos.py), the 4 on which the bench config keeps one person;
 3. per-stage throughput, batch 1 vs configured (bench/stages.py) and SD-2-inpainting (bench/outpaint_steps.py);
 4. end-to-end `humanverse curate`, both annotator layouts (bench/pipelines.py: e2e);
 5. 1 -> 2 workers on an embarrassingly parallel config (bench/pipelines.py: scaling), and the machine's own
    1 -> 2 process scaling on the same work (bench/hog_ceiling.py);
 6. fetch + decode + filter vs img2dataset, throughput and peak RSS / PSS of both process trees
    (bench/vs_img2dataset.py; --fetch-variants adds earlier code and other pool shapes, side by side);
 7. the demo preset's real models (HOG + MediaPipe pose) + writer vs its bound (bench/demo_throughput.py);
 8. peak RSS / PSS of the whole run at 1x and 10x input (bench/pipelines.py: memory);
 9. bench/RESULTS.md (bench/report.py).

Issue 18's items 1-3 alone (no model build needed; ~15 min on an idle machine):

    .venv/bin/python bench/run_all.py --skip stages,outpaint,e2e,scaling,memory --fetch-rows 6000 --runs 2 \
        --fetch-variants before,4x1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import common
import configs
import models as bench_models
import photos
import pipelines
import report
import vs_img2dataset

STEPS = ("stages", "outpaint", "e2e", "scaling", "fetch", "demo", "memory")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="repeats of every timed measurement (medians)")
    parser.add_argument("--e2e-runs", type=int, default=1, help="repeats of each e2e layout (~2 min each)")
    parser.add_argument("--e2e-rows", type=int, default=8, help="one image per task")
    parser.add_argument("--fetch-rows", type=int, default=6000)
    parser.add_argument("--fetch-variants", default="", help="also run ours as these vs_img2dataset.VARIANTS "
                        f"(comma-separated: {','.join(vs_img2dataset.VARIANTS)})")
    parser.add_argument("--demo-rows", type=int, default=384)
    parser.add_argument("--memory-rows", type=int, default=pipelines.MEMORY_ROWS_PER_TASK,
                        help="1x input of the memory test (10x = ten times)")
    parser.add_argument("--skip", default="", help=f"comma-separated steps to skip: {','.join(STEPS)}")
    parser.add_argument("--report-only", action="store_true", help="rewrite RESULTS.md from bench/.out")
    args = parser.parse_args()
    common.quiet_libraries()
    skip = set(filter(None, args.skip.split(",")))
    timings: dict[str, float] = {}

    def step(name: str, fn):
        if name in skip or args.report_only:
            return
        common.say(f"--- {name}")
        t0 = time.perf_counter()
        fn()
        timings[name] = time.perf_counter() - t0
        common.say(f"--- {name} took {timings[name]:.0f} s")

    started = time.perf_counter()
    if not args.report_only:
        common.write_json("machine-start", common.machine())
        t0 = time.perf_counter()
        needs_models = bool({"stages", "outpaint", "e2e", "scaling", "memory"} - skip)
        built = bench_models.ensure_models(bench_models.DEFAULT_DIR, say=common.say) if needs_models else 0
        vs_img2dataset.ensure_img2dataset()
        timings["models"] = time.perf_counter() - t0
        common.write_json("models", {"built_s": built})

        if needs_models:
            cfg = configs.e2e_config(bench_models.DEFAULT_DIR, rows_per_task=pipelines.E2E_ROWS_PER_TASK)
            chosen = photos.single_person_photos(cfg, limit=4)
            if len(chosen) < 2:
                raise SystemExit("fewer than 2 photos with one detected person: see bench/photos.py")
        else:
            chosen = photos.photos()[:4]
        every = [p for p in photos.photos()]
        with photos.serve(photos.photo_dir()) as base:
            inputs = common.OUT / "inputs"
            pq = {
                "photos": photos.write_laion(inputs / "photos.parquet", base, chosen, len(chosen)),
                "e2e": photos.write_laion(inputs / "e2e.parquet", base, chosen, args.e2e_rows),
                "scaling": photos.write_laion(inputs / "scaling.parquet", base, chosen, 18 * len(chosen)),
                "fetch": photos.write_laion(inputs / "fetch.parquet", base, every, args.fetch_rows),
                "mem1": photos.write_laion(inputs / "memory-1x.parquet", base, chosen, args.memory_rows),
                "mem10": photos.write_laion(inputs / "memory-10x.parquet", base, chosen, 10 * args.memory_rows),
            }
            common.write_json("inputs", {"photo_dir": str(photos.photo_dir()), "chosen": [p.name for p in chosen],
                                         "fetch_photos": len(every), **{k: str(v) for k, v in pq.items()}})
            py = sys.executable
            step("stages", lambda: subprocess.run([py, "stages.py", "--parquet", str(pq["photos"]), "--runs",
                                                   str(args.runs)], check=True, cwd=common.BENCH))
            step("outpaint", lambda: subprocess.run([py, "outpaint_steps.py", "--runs", str(args.runs)], check=True,
                                                    cwd=common.BENCH))
            step("e2e", lambda: common.write_json("e2e", {"runs": pipelines.e2e(pq["e2e"], runs=args.e2e_runs)}))
            step("scaling", lambda: (
                common.write_json("scaling", {"runs": pipelines.scaling(pq["scaling"], args.runs)}),
                subprocess.run([py, "hog_ceiling.py", "--runs", str(args.runs), "--photos", *map(str, chosen)],
                               check=True, cwd=common.BENCH),
            ))
            step("fetch", lambda: common.write_json("fetch", vs_img2dataset.compare(
                pq["fetch"], args.fetch_rows, args.runs,
                variants=[v for v in args.fetch_variants.split(",") if v])))
            step("demo", lambda: subprocess.run([py, "demo_throughput.py", "--rows", str(args.demo_rows), "--runs",
                                                 str(args.runs)], check=True, cwd=common.BENCH))
            step("memory", lambda: common.write_json("memory", {"runs": pipelines.memory(pq["mem1"], pq["mem10"]),
                                                                 "rows_per_task": pipelines.MEMORY_ROWS_PER_TASK}))
        timings["total"] = time.perf_counter() - started
        common.write_json("run_all", {"timings_s": timings, "args": vars(args), "machine_end": common.machine()})
    path = report.write()
    common.say(f"wrote {path}")


if __name__ == "__main__":
    main()
