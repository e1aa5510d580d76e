"""The pipeline benchmarks, each a set of `curate_run.py` runs in fresh processes:

- e2e:     the real-size config (bench/configs.py) in both annotator layouts, per_model and fused;
- scaling: an embarrassingly parallel config (fetch + decode + HOG detection, no model stages) with the
           detect pool at 1 and at 2 single-threaded workers;
- memory:  the whole demo pipeline (every stage, tiny models) on 1x and 10x the input, peak RSS / PSS.

Every function returns the list of run reports (also in bench/.out/<name>.json).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import common
import configs
import models as bench_models


def curate_run(name: str, parquet: Path, overrides: list[str], preset: str = "humanverse", only_fetch: bool = False,
               env: tuple[str, ...] = (), pythonpath: str | None = None, engine: str = "ray") -> dict:
    """pythonpath: import humanverse from another checkout (an earlier state of the code, for comparisons)."""
    cmd = [sys.executable, str(common.BENCH / "curate_run.py"), "--parquet", str(parquet), "--name", name,
           "--out", str(common.OUT / "runs" / name), "--preset", preset]
    cmd += [arg for o in overrides for arg in ("--set", o)] + [arg for e in env for arg in ("--env", e)]
    if only_fetch:
        cmd.append("--only-fetch")
    if engine != "ray":
        cmd += ["--engine", engine]
    run_env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    subprocess.run(cmd, check=True, cwd=common.BENCH, stdout=subprocess.DEVNULL, env=run_env)
    return common.read_json(name)


# One image per task: a short run still has enough tasks (shards) for the pipeline to reach its steady state.
E2E_ROWS_PER_TASK = 1


def e2e(parquet: Path, layouts=("per_model", "fused"), runs: int = 1, rows_per_task: int = E2E_ROWS_PER_TASK) -> list[dict]:
    out = []
    for run in range(runs):
        for layout in layouts:
            overrides = configs.pipeline_overrides(bench_models.DEFAULT_DIR, rows_per_task, layout=layout)
            out.append(curate_run(f"e2e-{layout}-{run}", parquet, overrides))
    return out


def scaling(parquet: Path, runs: int = 3, rows_per_task: int = 8) -> list[dict]:
    """detect pool of 1 vs 2 workers, one thread each (OpenCV's own pool pinned to 1 thread too)."""
    base = [
        f"input.rows_per_task={rows_per_task}", "run.num_cpus=2", "run.progress=false",
        f"fetch.resources={configs._res(0.1, 64, threads=1)}",
        "detect.backend=hog", "detect.conf=0.5", "person.min_area_frac=0.02",
        "aesthetic.enabled=false", "nsfw.enabled=false", "outpaint.mode=never",
        "pose=null", "depth=null", "normal=null",
    ]
    out = []
    for run in range(runs):
        for workers in (1, 2):
            overrides = base + [f"detect.resources={configs._res(0.6, 4, actors=workers, threads=1)}"]
            out.append(curate_run(f"scaling-{workers}w-{run}", parquet, overrides, env=("OPENCV_FOR_THREADS_NUM=1",)))
    return out


MEMORY_ROWS_PER_TASK = 10  # 1x is one task, 10x ten


def memory(parquet_1x: Path, parquet_10x: Path, rows_per_task: int = MEMORY_ROWS_PER_TASK) -> list[dict]:
    """The demo preset (every stage, tiny random models; outpainting as the preset has it) end to end."""
    overrides = [
        f"models_dir={bench_models.DEFAULT_DIR}", f"input.rows_per_task={rows_per_task}", "run.num_cpus=2",
        "run.progress=false", "detect.conf=0.5", "person.min_area_frac=0.02",
    ]
    return [curate_run("memory-1x", parquet_1x, overrides, preset="demo"),
            curate_run("memory-10x", parquet_10x, overrides, preset="demo")]
