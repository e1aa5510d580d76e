"""Steady RSS of the training data loader over large synthetic shards (issue 16: host memory at scale).

Writes contract shards whose members are the size real ones have at 1024x768 (a noisy JPEG, a 16-bit depth
PNG, an RGB normal PNG: ~2-4 MB a sample, noise compresses badly on purpose), then streams them through
`make_dataloader` at a preset's resolution and worker count, sampling every DataLoader worker's RSS and USS.
Run once with the byte-bounded shuffle buffer (the default) and once with only a count bound, the way the
loader shuffled before (`--count-only`); the figures go to bench/NOTES.md section 8 by hand.

    .venv/bin/python bench/loader_memory.py --workers 2 --batches 150 --shuffle-buffer 2000 --mb 256
    .venv/bin/python bench/loader_memory.py --workers 2 --batches 150 --shuffle-buffer 300 --count-only
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import webdataset as wds
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from humanverse.shards.encoding import encode_depth16, encode_normal  # noqa: E402


def write_large_shards(root: Path, shards: int, per_shard: int, width: int = 1024, height: int = 768) -> float:
    """Returns the mean encoded bytes of one sample."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sizes = []
    for s in range(shards):
        path = root / f"{s:05d}.tar"
        if path.exists():
            continue
        with wds.TarWriter(str(path)) as sink:
            for i in range(per_shard):
                image = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
                jpg = io.BytesIO()
                Image.fromarray(image).save(jpg, format="JPEG", quality=90)
                depth, depth_range = encode_depth16(rng.random((height, width)))
                normals = rng.normal(size=(height, width, 3))
                normals /= np.linalg.norm(normals, axis=2, keepdims=True)
                kp = np.column_stack([rng.uniform(100, 900, 133), rng.uniform(100, 700, 133), np.ones(133)])
                meta = {"width": width, "height": height, "persons": [{"box": [100, 100, 900, 700], "keypoints": kp.tolist()}],
                        "depth": {"range": depth_range}}
                sample = {"__key__": f"{s:05d}{i:09d}", "jpg": jpg.getvalue(), "txt": "a person",
                          "json": json.dumps(meta), "depth.png": depth, "normal.png": encode_normal(normals)}
                sizes.append(sum(len(v) if isinstance(v, bytes) else len(v.encode()) for k, v in sample.items()
                                 if k != "__key__"))
                sink.write(sample)
    return float(np.mean(sizes)) if sizes else float("nan")


def measure(shards: list[str], args) -> dict:
    import torch

    from humanverse.train.common.config import DataConfig
    from humanverse.train.common.shard_data import make_dataloader

    torch.set_num_threads(1)
    mb = 1e9 if args.count_only else args.mb
    cfg = DataConfig(resolution=args.resolution, batch_size=args.batch_size, num_workers=args.workers,
                     shuffle_buffer=args.shuffle_buffer, shuffle_buffer_mb=mb)
    loader = make_dataloader(shards, cfg, seed=0)
    me = psutil.Process(os.getpid())
    trace = []
    started = time.perf_counter()
    for step, _batch in enumerate(loader, start=1):
        if step % 5 == 0:
            workers = me.children()
            rss = [w.memory_info().rss for w in workers]
            uss = [w.memory_full_info().uss for w in workers]
            trace.append({"step": step, "seconds": round(time.perf_counter() - started, 1),
                          "worker_rss_mb": [round(r / 2**20) for r in rss], "worker_uss_mb": [round(u / 2**20) for u in uss],
                          "main_rss_mb": round(me.memory_info().rss / 2**20)})
            print(json.dumps(trace[-1]), flush=True)
        if step >= args.batches:
            break
    last = trace[-max(1, len(trace) // 4):]  # the last quarter: the steady state
    return {
        "config": {"resolution": args.resolution, "workers": args.workers, "batch_size": args.batch_size,
                   "shuffle_buffer": args.shuffle_buffer, "shuffle_buffer_mb": None if args.count_only else args.mb},
        "samples_read": args.batches * args.batch_size,
        "steady_worker_rss_mb": max(max(t["worker_rss_mb"]) for t in last),
        "steady_worker_uss_mb": max(max(t["worker_uss_mb"]) for t in last),
        "peak_worker_rss_mb": max(max(t["worker_rss_mb"]) for t in trace),
        "main_rss_mb": max(t["main_rss_mb"] for t in trace),
        "trace": trace,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default="/tmp/humanverse-bench-large-shards")
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--per-shard", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--resolution", type=int, default=512)
    parser.add_argument("--shuffle-buffer", type=int, default=2000)
    parser.add_argument("--mb", type=float, default=256, help="data.shuffle_buffer_mb")
    parser.add_argument("--count-only", action="store_true", help="no byte bound: the loader's old behaviour")
    parser.add_argument("--output", help="write the result JSON here")
    args = parser.parse_args()
    root = Path(args.data)
    mean_bytes = write_large_shards(root, args.shards, args.per_shard)
    result = measure(sorted(str(p) for p in root.glob("*.tar")), args)
    result["sample_mb"] = round(mean_bytes / 2**20, 2) if mean_bytes == mean_bytes else None
    summary = {k: v for k, v in result.items() if k != "trace"}
    print(json.dumps(summary, indent=1))
    if args.output:
        Path(args.output).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
