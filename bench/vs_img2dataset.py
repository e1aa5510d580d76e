"""Fetch + decode + size filter, ours vs img2dataset 1.47, on one URL list served by one local HTTP server:
throughput (issue 18, item 1) and peak RSS / PSS of both process trees (item 3), in the same runs.

Both read the same LAION-format parquet, download every URL from the same `python -m http.server` on
127.0.0.1, decode, drop images under 200x200, keep the original bytes (no resize, no re-encode) and write
WebDataset tars; both get the whole 2-core machine, turn by turn, RUNS times (ours, then img2dataset).

- ours: `humanverse curate` with only the fetch group (metadata filter, fetch, safe decode with EXIF and
  bomb checks, resolution filter) and the shard writer, on a config without model stages (so no model
  files are needed). The fetch pool: FETCH_ACTORS actors, each running FETCH_TASKS_PER_ACTOR tasks at once
  on threads (fetch.tasks_per_actor), so one task's downloads overlap another's decode in one process.
- img2dataset (its own venv, bench/.venv-img2dataset: it pins webdataset<0.3 and adds a second OpenCV,
  which would break the project's venv): processes_count=2, thread_count=16, resize_mode=no,
  skip_reencode=True, min_image_size=200, output_format=webdataset.

Two throughputs for each tool, from the same runs: over the whole command, start-up included (as a user
times a short run), and steady (input rows of shards 2..K over the time from the first to the last shard
written: what a long run sustains). img2dataset's shard times are its `*_stats.json` files, ours the
`.stats.json` markers; both are written when a shard is complete. Memory: bench/tree_sampler.py over each
tool's process tree (ours: driver + Ray's GCS, raylet and workers; img2dataset: its command and its pool).

Alone (the item 1 + 3 table, and what each change bought with --variants):

    .venv/bin/python bench/vs_img2dataset.py --rows 6000 --runs 2 [--variants before,1x2,4x1,1x4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import common
from pipelines import curate_run
from tree_sampler import TreeSampler

I2D_VENV = common.BENCH / ".venv-img2dataset"
I2D_VERSION = "1.47.0"
# 2 fetch processes (as img2dataset's 2), each running 2 tasks at once: in 4 side-by-side rounds at 6,000 rows
# (2026-11-27, NOTES.md) as fast as the preset's 4x1 within the load's noise, with ~45% less memory; one
# process alone (1x2, 1x4) is held by its GIL.
FETCH_ACTORS = 2
FETCH_TASKS_PER_ACTOR = 2
SHARD_ROWS = 100
# Downloads in flight per fetch process: img2dataset's thread_count, so both tools keep 2 x 16 requests open.
# The preset's 32 per actor is sized for internet latency; on loopback every response is ready at once and
# 32 threads per process only contend for the GIL (~1 ms more CPU per row here, the `inflight32` variant).
IN_FLIGHT = 16


def fetch_overrides(actors: int = FETCH_ACTORS, tasks_per_actor: int | None = FETCH_TASKS_PER_ACTOR,
                    shard_rows: int = SHARD_ROWS, in_flight: int = IN_FLIGHT) -> list[str]:
    """The humanverse preset with every model stage off (HOG detection needs no file and never runs: only
    the fetch group does). Ray CPU shares: reader and writer 0.25 each, the fetch pool the rest."""
    share = round(1.4 / actors, 2)
    out = [f"input.rows_per_task={shard_rows}", "run.num_cpus=2", "run.progress=false", "detect.backend=hog",
           "aesthetic.enabled=false", "nsfw.enabled=false", "outpaint.mode=never", "pose=null", "depth=null",
           "normal=null", f"fetch.download.max_in_flight={in_flight}",
           f"fetch.resources={{num_cpus: {share}, num_gpus: 0, batch_size: 64, actors: {actors}, threads: 1}}"]
    if tasks_per_actor is not None:  # None: a checkout from before fetch.tasks_per_actor existed
        out.append(f"fetch.tasks_per_actor={tasks_per_actor}")
    return out


BEFORE_REF = "5597676"  # main when issue 18 started
ROUND2_REF = "f59ce96"  # main at the end of issue 18's second session
ROUND3_REF = "b50f941"  # main when issue 30's per-row work started
SHA256_REF = "b1f48f1"  # main before the pixel digest became xxh3_128 (issue 30, item 1)
DIGEST_AT_DECODE_REF = "6b7ed6e"  # main before a kept original JPEG was only checked at decode (1/8 scale)
BOARD_ACTOR_REF = "0f2a7eb"  # main before the progress board moved from an actor into the GCS's key-value store
# What each change bought: the same input through earlier states of the code and other pool shapes.
# "before" is main before issue 18 (a `git archive` of the ref in BEFORE_REF, imported through PYTHONPATH).
VARIANTS = {
    "before": dict(actors=4, tasks_per_actor=None, code=BEFORE_REF),
    # main before round 3 (the writer fused into the last CPU group, cheaper EXIF rotation and JPEG walk)
    "round2": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, code=ROUND2_REF),
    # main before issue 30's per-row work (Pillow-turned rotated photos, ...)
    "round3": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, code=ROUND3_REF),
    # main with the sha256 pixel digest (new runs now record xxh3_128: imaging/pixel_digest.py)
    "sha256digest": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, code=SHA256_REF),
    # main with every row decoded in full for its pixel digest at decode (now a kept original JPEG is checked at
    # 1/8 scale and its digest taken by the phash stage, after the person rule: not in this fetch-only run)
    "digestatdecode": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, code=DIGEST_AT_DECODE_REF),
    # main with the progress board as a Ray actor of its own (now kept in the GCS: engine/ray_board.py)
    "boardactor": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, code=BOARD_ACTOR_REF),
    "4x1": dict(actors=4, tasks_per_actor=1),
    "1x4": dict(actors=1, tasks_per_actor=4),
    "1x2": dict(actors=1, tasks_per_actor=2),
    # `--engine local`: the same stages in the command's own process (fetch.tasks_per_actor tasks fetched at once
    # on threads, published in order by the main thread), no Ray to start
    "local": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, engine="local"),
    "local3": dict(actors=FETCH_ACTORS, tasks_per_actor=3, engine="local"),
    "local4": dict(actors=FETCH_ACTORS, tasks_per_actor=4, engine="local"),
    "inflight32": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, in_flight=32),
    # glibc: 2 malloc arenas instead of 8 per core for the many download threads (Ray workers inherit it)
    "arenas2": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, env=("MALLOC_ARENA_MAX=2",)),
    # glibc's mmap threshold fixed (no dynamic rise): buffers above it are mmapped and go back to the kernel when
    # freed, and a static threshold keeps the heap's trim threshold at 128 KiB
    "mmap128k": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, env=("MALLOC_MMAP_THRESHOLD_=131072",)),
    "mmap1m": dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR, env=("MALLOC_MMAP_THRESHOLD_=1048576",)),
}


def ensure_img2dataset() -> Path:
    exe = I2D_VENV / "bin" / "img2dataset"
    if not exe.exists():
        common.say(f"creating bench/.venv-img2dataset (pip install img2dataset=={I2D_VERSION})")
        subprocess.run(["python3", "-m", "venv", str(I2D_VENV)], check=True)
        subprocess.run([str(I2D_VENV / "bin" / "pip"), "install", "-q", f"img2dataset=={I2D_VERSION}"], check=True)
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
    load_start = common.load_avg()
    started = time.time()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with TreeSampler(proc.pid) as sampler:
        rc = proc.wait()
    wall = time.time() - started
    if rc:
        raise SystemExit(f"img2dataset exited with {rc}")
    shards = sorted(((p.stat().st_mtime, json.loads(p.read_text())) for p in out.glob("*_stats.json")),
                    key=lambda shard: shard[0])
    report = {"name": name, "images": rows, "ok": sum(s.get("successes", 0) for _, s in shards), "wall_s": wall,
              "total_img_per_s": rows / wall, "load_avg_start": load_start, "load_avg_end": common.load_avg(),
              **sampler.result()}
    if len(shards) >= 2:
        span = shards[-1][0] - shards[0][0]
        steady_rows = sum(s["count"] for _, s in shards[1:])
        steady_cpu = sampler.cpu_between(shards[0][0], shards[-1][0])
        report.update(steady_s=span, steady_img_per_s=steady_rows / span, first_task_s=shards[0][0] - started,
                      steady_cpu_s_per_img=steady_cpu / steady_rows if steady_cpu else None)
    common.write_json(name, report)
    return report


def code_at(ref: str) -> Path:
    """The package at an earlier commit, unpacked from git (no worktree, no change to the repository)."""
    dest = common.OUT / f"code-{ref}"
    if not (dest / "humanverse").is_dir():
        dest.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(common.REPO), "archive", ref, "humanverse"],
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
    return dest


def run_ours(parquet: Path, name: str, variant: str | None = None, shard_rows: int = SHARD_ROWS) -> dict:
    spec = dict(VARIANTS[variant]) if variant else dict(actors=FETCH_ACTORS, tasks_per_actor=FETCH_TASKS_PER_ACTOR)
    code, env, engine = spec.pop("code", None), spec.pop("env", ()), spec.pop("engine", "ray")
    pythonpath = str(code_at(code)) if code else None
    report = curate_run(name, parquet, fetch_overrides(shard_rows=shard_rows, **spec), only_fetch=True,
                        pythonpath=pythonpath, env=env, engine=engine)
    report["variant"] = variant or "default"
    return report


def compare(parquet: Path, rows: int, runs: int = 3, shard_rows: int = SHARD_ROWS,
            variants: list[str] | None = None) -> dict:
    """RUNS rounds of: ours (the default pool, then each variant), then img2dataset; medians in report.py."""
    ours, theirs, extra = [], [], {v: [] for v in variants or []}
    for run in range(runs):
        common.say(f"fetch run {run + 1}/{runs}: humanverse ({rows} rows)")
        ours.append(run_ours(parquet, f"fetch-ours-{run}", shard_rows=shard_rows))
        for v in variants or []:
            common.say(f"fetch run {run + 1}/{runs}: humanverse, variant {v}")
            extra[v].append(run_ours(parquet, f"fetch-{v}-{run}", v, shard_rows))
        common.say(f"fetch run {run + 1}/{runs}: img2dataset")
        theirs.append(run_img2dataset(parquet, rows, shard_rows, f"fetch-img2dataset-{run}"))
    return {"rows": rows, "runs": runs, "shard_rows": shard_rows, "ours": ours, "img2dataset": theirs,
            "variants": extra, "fetch_pool": {"actors": FETCH_ACTORS, "tasks_per_actor": FETCH_TASKS_PER_ACTOR,
                                                     "in_flight": IN_FLIGHT},
            "img2dataset_version": img2dataset_version()}


def main() -> None:
    import photos
    import report

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--variants", default="", help=f"also run ours as: {','.join(VARIANTS)}")
    args = parser.parse_args()
    common.quiet_libraries()
    ensure_img2dataset()
    start = common.machine()
    with photos.serve(photos.photo_dir()) as base:
        parquet = photos.write_laion(common.OUT / "inputs" / "fetch.parquet", base, photos.photos(), args.rows)
        result = compare(parquet, args.rows, args.runs, variants=[v for v in args.variants.split(",") if v])
    result.update(machine_start=start, machine_end=common.machine(), command=" ".join(sys.argv))
    common.write_json("fetch", result)
    lines: list[str] = []
    report.fetch_section(lines, result)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
