"""CPU cost per image of the full aesthetic/NSFW stage: OpenAI ViT-L/14 + LAION aesthetic MLP + NSFW head.

Real architectures with random weights (the compute is the real one), written in the published formats and
loaded through the stage's own setup(). Every sample lacks metadata scores, so both heads run on every image.
Timed: CLIPScoreStage.process on micro-batches (preprocess + ViT-L/14 + heads + thresholds), after one
warm-up batch; wall time per image, and CPU seconds per image (all threads), which is less disturbed when
other processes share the cores. Usage:

    python bench/bench_clip.py [--threads 2] [--batch-sizes 1 16] [--images 32] [--models-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--images", type=int, default=32, help="timed images per batch size (rounded up to batches)")
    parser.add_argument("--size", type=int, nargs=2, default=[224, 224], metavar=("H", "W"), help="input image size")
    parser.add_argument("--arch", default="ViT-L-14-quickgelu")
    parser.add_argument("--models-dir", help="reuse random weights written here by an earlier run")
    args = parser.parse_args()

    import torch

    from humanverse.models.clip.demo_weights import build_demo_weights
    from humanverse.stages.clip_scores import (
        AestheticConfig,
        ClipConfig,
        ClipScoresConfig,
        CLIPScoreStage,
        NSFWConfig,
        )
    from humanverse.core.sample import Sample
    from humanverse.core.stage import Resources

    models_dir = Path(args.models_dir or tempfile.mkdtemp(prefix="bench-clip-"))

    def config(batch_size: int) -> ClipScoresConfig:
        return ClipScoresConfig(
            clip=ClipConfig(
                arch=args.arch,
                weights=f"clip-{args.arch}",
                resources=Resources(num_cpus=args.threads, threads=args.threads, batch_size=batch_size),
            ),
            aesthetic=AestheticConfig(weights="aesthetic"),
            nsfw=NSFWConfig(weights="nsfw"),
        )

    if not (models_dir / f"clip-{args.arch}").exists():
        started = time.perf_counter()
        cfg = config(1)
        build_demo_weights(models_dir, cfg.clip.weights, cfg.clip.arch, cfg.aesthetic.weights, cfg.nsfw.weights)
        print(f"wrote random {args.arch} weights to {models_dir} in {time.perf_counter() - started:.1f} s")

    rng = np.random.default_rng(0)
    h, w = args.size
    print(
        f"arch={args.arch} threads={args.threads} input={h}x{w} torch={torch.__version__} cores={os.cpu_count()} "
        f"load_avg={os.getloadavg()[0]:.2f}"
    )
    for batch_size in args.batch_sizes:
        stage = CLIPScoreStage(config(batch_size), models_dir=str(models_dir))
        started = time.perf_counter()
        stage.ensure_setup()
        load_s = time.perf_counter() - started
        n_batches = max(1, -(-args.images // batch_size))

        def batch(n: int) -> list[Sample]:
            return [
                Sample(key=f"k{i}", task_id="bench", source={}, image=rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
                for i in range(n)
            ]

        stage.process(batch(batch_size))  # warm-up
        seconds, cpu_seconds = [], []
        for _ in range(n_batches):
            samples = batch(batch_size)
            started, cpu_started = time.perf_counter(), time.process_time()
            stage.process(samples)
            seconds.append(time.perf_counter() - started)
            cpu_seconds.append(time.process_time() - cpu_started)
        per_image = np.array(seconds) / batch_size
        cpu_per_image = sum(cpu_seconds) / (n_batches * batch_size)
        print(
            f"batch={batch_size:3d}  images={n_batches * batch_size:3d}  "
            f"wall per image: mean {per_image.mean() * 1000:7.1f} ms  min {per_image.min() * 1000:7.1f} ms  "
            f"({1 / per_image.mean():.2f} img/s)  cpu per image {cpu_per_image * 1000:7.1f} ms  "
            f"setup {load_s:.1f} s  threads={torch.get_num_threads()}"
        )


if __name__ == "__main__":
    main()
