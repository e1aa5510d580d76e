"""Fetch + decode + size filter, ours vs img2dataset, on one URL list served by one local HTTP server.

Both read the same LAION-format parquet, download every URL from the same `python -m http.server` on
127.0.0.1, decode, drop images under 200x200, keep the original bytes (no resize, no re-encode) and write
WebDataset tars; both get the whole 2-core machine, turn by turn, RUNS times.

- ours: `humanverse curate` with only the fetch group (metadata filter, fetch, safe decode with EXIF and
  bomb checks, resolution filter) and the shard writer; a fetch pool of 4 actors as in the humanverse
  preset (fetching waits on the network, so one actor per core leaves the cores idle: measured 2 actors
  127 img/s at 0.87 busy cores, 4 actors 202 img/s at 1.55, steady, 3,000 rows, 2026-11-23).
- img2dataset (its own venv, bench/.venv-img2dataset): processes_count=2, thread_count=16,
  resize_mode=no, skip_reencode=True, min_image_size=200, output_format=webdataset.

Two throughputs for each tool, from the same runs: over the whole command, start-up included (as a user
times a short run), and steady (input rows of shards 2..K over the time from the first to the last shard
written: what a long run sustains). img2dataset's shard times are its `*_stats.json` files, ours the
`.stats.json` markers; both are written when a shard is complete.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import common
import configs
from pipelines import curate_run

I2D_VENV = common.BENCH / ".venv-img2dataset"
FETCH_ACTORS = 4
FETCH_CPUS = 0.35  # Ray admission shares: 4 x 0.35 + reader and writer 0.25 each fit the 2 CPUs


def ensure_img2dataset() -> Path:
    exe = I2D_VENV / "bin" / "img2dataset"
    if not exe.exists():
        common.say("creating bench/.venv-img2dataset (pip install img2dataset)")
        subprocess.run(["python3", "-m", "venv", str(I2D_VENV)], check=True)
        subprocess.run([str(I2D_VENV / "bin" / "pip"), "install", "-q", "img2dataset"], check=True)
    return exe


def img2dataset_version() -> str:
    out = subprocess.run([str(I2D_VENV / "bin" / "pip"), "show", "img2dataset"], capture_output=True, text=True)
    return next((line.split(":", 1)[1].strip() for line in out.stdout.splitlines() if line.startswith("Version")), "?")


def run_img2dataset(parquet: Path, rows: int, shard_rows: int, name: str) -> dict:
    out = common.OUT / "runs" / name
    shutil.rmtree(out, ignore_errors=True)
    cmd = [str(ensure_img2dataset()), "--url_list", str(parquet), "--input_format", "parquet", "--url_col", "URL",
           "--caption_col", "TEXT", "--output_folder", str(out), "--output_format", "webdataset",
           "--processes_count", "2", "--thread_count", "16", "--resize_mode", "no", "--skip_reencode", "True",
           "--min_image_size", "200", "--number_sample_per_shard", str(shard_rows), "--enable_wandb", "False",
           "--distributor", "multiprocessing"]
    env = dict(os.environ, NO_ALBUMENTATIONS_UPDATE="1", WANDB_MODE="disabled")
    started = time.time()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.time() - started
    shards = sorted(((p.stat().st_mtime, json.loads(p.read_text())) for p in out.glob("*_stats.json")),
                    key=lambda shard: shard[0])
    report = {"name": name, "images": rows, "ok": sum(s.get("successes", 0) for _, s in shards), "wall_s": wall,
              "total_img_per_s": rows / wall}
    if len(shards) >= 2:
        span = shards[-1][0] - shards[0][0]
        report.update(steady_s=span, steady_img_per_s=sum(s["count"] for _, s in shards[1:]) / span,
                      first_task_s=shards[0][0] - started)
    return report


def compare(parquet: Path, rows: int, runs: int = 3, shard_rows: int = 100) -> dict:
    import models as bench_models

    # the bench config (its model files exist, so the driver's model check passes; only fetch runs)
    ours_overrides = configs.pipeline_overrides(bench_models.DEFAULT_DIR, shard_rows) + [
        f"fetch.resources={configs._res(FETCH_CPUS, 64, actors=FETCH_ACTORS, threads=1)}",
    ]
    ours, theirs = [], []
    for run in range(runs):
        ours.append(curate_run(f"fetch-ours-{run}", parquet, ours_overrides, only_fetch=True))
        theirs.append(run_img2dataset(parquet, rows, shard_rows, f"fetch-img2dataset-{run}"))
    return {"rows": rows, "runs": runs, "ours": ours, "img2dataset": theirs, "img2dataset_version": img2dataset_version()}
