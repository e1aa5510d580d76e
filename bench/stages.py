"""Per-stage throughput, batch 1 vs the configured batch, with the production stage objects.

The stages are the ones `humanverse curate` builds from the e2e config (bench/configs.py), plus YOLO11x,
which the e2e pipeline does not run here (the preset's detector; untrained, it finds nobody). Inputs are
the e2e photos, read from the same parquet and fetched from the same local server, carried stage to stage exactly as the pipeline carries them: every timed run gets a
pickled copy, so the JPEG is decoded again inside the stage as it is after an actor hop.

For each stage: one warm-up image, then RUNS runs of one image at batch 1 and RUNS runs of all K photos in
micro-batches of the configured batch; medians of wall and process-CPU seconds (CPU counts every thread).

    python bench/stages.py --parquet P --runs 3 [--only detect,pose]
"""

from __future__ import annotations

import argparse
import pickle
import time
from pathlib import Path

import common
import configs
import models as bench_models


def read_samples(parquet: Path) -> list:
    from humanverse.engine import planner
    from humanverse.sources.inputs import reader_for

    plan = planner.plan([str(parquet)], "auto", {}, 10**6, None)
    spec = plan.tasks[0]
    return reader_for(spec.input_format, {}, None).read(spec)


def copies(samples: list) -> list:
    return pickle.loads(pickle.dumps(samples))


def run_stages(stages, samples, batch: int) -> None:
    for stage in stages:
        alive = [s for s in samples if s.alive]
        for i in range(0, len(alive), batch):
            stage.process(alive[i : i + batch])


def measure(name: str, stages: list, inputs: list, batch: int, runs: int, note: str = "", in_e2e: bool = True,
            keeps_all: bool = True) -> dict:
    """stages run in order on copies of inputs; returns per-image medians at batch 1 and at `batch`."""
    started = time.perf_counter()
    for stage in stages:
        stage.ensure_setup()
    setup_s = time.perf_counter() - started
    run_stages(stages, copies(inputs[:1]), 1)  # warm-up: first-call allocations, lazy inits
    result = {"stage": name, "note": note, "in_e2e": in_e2e, "setup_s": setup_s, "images": len(inputs),
              "batch": batch}
    for label, subset, b in (("batch1", inputs[:1], 1), ("batchN", inputs, batch)):
        def once(subset=subset, b=b):
            work = copies(subset)
            t0 = time.perf_counter()
            run_stages(stages, work, b)
            assert not keeps_all or all(s.alive for s in work), [(s.stage, s.reason) for s in work if not s.alive]
            return time.perf_counter() - t0

        timing = common.timed_runs(once, runs)
        n = len(subset)
        result[label] = {"wall_s_per_img": timing["wall_s"] / n, "cpu_s_per_img": timing["cpu_s"] / n,
                         "img_per_s": n / timing["wall_s"], "runs": runs, "walls": timing["walls"]}
    common.say(f"{name}: b1 {result['batch1']['img_per_s']:.3f} img/s, b{batch} {result['batchN']['img_per_s']:.3f} "
               f"img/s, cpu {result['batchN']['cpu_s_per_img']:.2f} s/img")
    return result


def jpeg_decode(samples, runs: int) -> dict:
    """What one more actor hop costs a sample: decoding its JPEG again (the object store carries JPEGs)."""
    import io

    import numpy as np
    from PIL import Image

    blobs = [s.jpeg for s in samples]

    def once():
        for b in blobs:
            with Image.open(io.BytesIO(b)) as im:
                np.asarray(im.convert("RGB"))

    t = common.timed_runs(once, runs)
    return {"wall_s_per_img": t["wall_s"] / len(blobs), "cpu_s_per_img": t["cpu_s"] / len(blobs)}


def advance(stages, samples, batch):
    out = copies(samples)
    run_stages(stages, out, batch)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parquet", type=Path, required=True, help="the e2e photos, one row each")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=configs.BATCH)
    parser.add_argument("--models-dir", type=Path, default=bench_models.DEFAULT_DIR)
    parser.add_argument("--only", default="fetch,detect,yolo,clip,pose,depth,normal")
    args = parser.parse_args()
    common.quiet_libraries()
    only = set(args.only.split(","))

    from humanverse.plan import build_stage_groups

    cfg = configs.e2e_config(args.models_dir, rows_per_task=1000, batch=args.batch)
    groups = {g.name: g for g in build_stage_groups(cfg, allow_private_urls=True)}
    rows = read_samples(args.parquet)
    results = []

    fetch = groups["fetch"].stages
    if "fetch" in only:
        results.append(measure("fetch + decode + filters", fetch, rows, len(rows), args.runs,
                               "metadata, HTTP GET (local server), safe decode, resolution; batch = whole task"))
    fetched = advance(fetch, rows, len(rows))
    detect = groups["detect"].stages
    if "detect" in only:
        results.append(measure("detect (HOG) + person rule", detect, fetched, args.batch, args.runs,
                               "OpenCV HOG people detector, 640 px long side; the e2e detector"))
    people = advance(detect, fetched, args.batch)
    if "yolo" in only:
        from humanverse.stages.detect import PersonDetectStage

        yolo = PersonDetectStage(configs.yolo_detect_config(args.models_dir, args.batch).detect, str(args.models_dir))
        results.append(measure("detect (YOLO11x, 640)", [yolo], fetched, args.batch, args.runs,
                               "the preset's detector size, random weights; not in the e2e run", in_e2e=False))
    if "clip" in only:
        results.append(measure("clip_scores", groups["clip_scores"].stages, people, args.batch, args.runs,
                               "aesthetic + NSFW: OpenAI CLIP ViT-L/14 image tower 224^2 + LAION MLP + NSFW head"))
    for name, note in (("pose", "ViTPose-H whole-body 133 kp, 256x192 crop, flip test (2 forwards/person)"),
                       ("depth", "MiDaS DPT-hybrid 384^2 + Omnidata DPT-hybrid depth 384^2, 16-bit PNGs"),
                       ("normal", "Omnidata DPT-hybrid normals 384^2, RGB PNG")):
        if name in only:
            results.append(measure(name, groups[name].stages, people, args.batch, args.runs, note))

    decode = jpeg_decode(fetched, args.runs)
    persons = sum(len(s.persons) for s in people) / len(people)
    common.write_json("stages", {"machine": common.machine(), "runs": args.runs, "persons_per_image": persons,
                                 "jpeg_decode": decode,
                                 "photos": [s.source.get("url", "").rsplit("/", 1)[-1] for s in rows],
                                 "stages": results})


if __name__ == "__main__":
    main()
