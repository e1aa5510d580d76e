"""The benchmark's curate configs: the humanverse preset with the random real-size weights under
bench/.models, sized for a 2-core CPU machine. Every run goes through `humanverse.config.resolve`, so the
pipeline builds exactly what `humanverse curate --preset humanverse --set ...` builds.

Choices that differ from the preset, and why:
- detect.backend=hog (OpenCV's trained people detector) with conf 0.5 and person.min_area_frac=0.02: an
  untrained YOLO finds nobody, and the annotators must see people. HOG's boxes are tight and small, hence
  the area floor; the input is the photos on which it finds exactly one person (bench/photos.py), so
  every image carries the same annotator work. YOLO11x is timed on its own as a stage (bench/stages.py).
- num_gpus=0 everywhere (there is no GPU) and CPU shares that fit 2 cores; torch threads = 2 per actor,
  so a stage that runs alone still uses both cores.
- outpaint.mode=never: SD-2-inpainting costs minutes per image on this CPU (20 steps x 2 UNet passes);
  it is timed per step as a stage (bench/outpaint_steps.py) and enters the GPU plan, not the e2e run.
- aesthetic.min_score=1, nsfw.max_score=1, source=model: CLIP runs on every image and the random heads'
  scores reject nobody except an aesthetic score below 1 (the photo selection drops such photos).
- batch sizes: the preset's GPU batches (16/32/8/8) are replaced by BATCH, chosen by measurement
  (bench/RESULTS.md, "batch 1 vs batch 4").
"""

from __future__ import annotations

from pathlib import Path

import models as bench_models

BATCH = 4
THREADS = 2


def _res(num_cpus: float, batch: int, actors: int = 1, threads: int = THREADS) -> str:
    return f"{{num_cpus: {num_cpus}, num_gpus: 0, batch_size: {batch}, actors: {actors}, threads: {threads}}}"


# Ray CPU shares (admission tokens; the threads decide the real use): read + write take 0.25 each
# (hard-wired in curate.py), fetch 0.1, detect 0.2, and 0.3 for each model pool: 2.0 in all.
SHARE = 0.3


def annotate_overrides(models_dir: Path, batch: int = BATCH, layout: str = "per_model") -> list[str]:
    """The real-size model stages: CLIP ViT-L/14 (+ LAION aesthetic MLP and NSFW head), ViTPose-H,
    MiDaS + Omnidata DPT-hybrid depth, Omnidata normals."""
    share = SHARE
    return [
        f"models_dir={models_dir}",
        f"clip.weights={bench_models.CLIP_DIR}",
        f"aesthetic.weights={bench_models.AESTHETIC_DIR}",
        f"nsfw.weights={bench_models.NSFW_DIR}",
        "aesthetic.source=model",
        "nsfw.source=model",
        "aesthetic.min_score=1.0",  # random heads: thresholds off, so that the annotators get work
        "nsfw.max_score=1.0",
        f"clip.resources={_res(share, batch)}",
        f"pose.weights={bench_models.VITPOSE}",
        "pose.arch=vitpose-h",
        f"pose.resources={_res(share, batch)}",
        f"depth.midas_weights={bench_models.MIDAS}",
        f"depth.omnidata_weights={bench_models.OMNIDATA_DEPTH}",
        f"depth.resources={_res(share, batch)}",
        f"normal.weights={bench_models.OMNIDATA_NORMAL}",
        f"normal.resources={_res(share, batch)}",
        "outpaint.mode=never",
        f"layout.annotators={layout}",
        f"layout.fused_resources={_res(3 * share, batch)}",
    ]


def pipeline_overrides(models_dir: Path, rows_per_task: int, batch: int = BATCH, layout: str = "per_model") -> list[str]:
    return [
        f"input.rows_per_task={rows_per_task}",
        f"fetch.resources={_res(0.1, 64, threads=1)}",
        "detect.backend=hog",
        "detect.conf=0.5",
        "person.min_area_frac=0.02",
        f"detect.resources={_res(0.2, batch)}",
        "run.num_cpus=2",
        "run.progress=false",
        *annotate_overrides(models_dir, batch, layout),
    ]


def e2e_config(models_dir: Path, rows_per_task: int, batch: int = BATCH, layout: str = "per_model", extra=()):
    from humanverse.config import resolve

    return resolve("humanverse", None, pipeline_overrides(models_dir, rows_per_task, batch, layout) + list(extra))


def yolo_detect_config(models_dir: Path, batch: int):
    """The preset's detector at its size (YOLO11x, 640), random weights: timed as a stage only."""
    from humanverse.config import resolve

    return resolve("humanverse", None, [
        f"models_dir={models_dir}", f"detect.weights={bench_models.YOLO}", f"detect.resources={_res(2, batch)}",
        *annotate_overrides(models_dir, batch),
    ])
