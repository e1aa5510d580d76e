"""The machine's own 1 -> 2 worker scaling on the scaling benchmark's work: the production HOG detector
on the same photos in 1 and in 2 plain processes (no Ray, no fetch, no writer), OpenCV pinned to one thread.

The pipeline cannot scale better than this: it is the ceiling the scaling figure is compared with.

    python bench/hog_ceiling.py --photos A.jpg B.jpg ... [--images 16] [--runs 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import time

import common


def _detect_loop(args: tuple[list[str], int]) -> float:
    """Seconds for `images` detections, cycling over the photos, after one warm-up."""
    import cv2
    import numpy as np
    from PIL import Image

    from humanverse.models.detect.hog_person import HogPersonDetector

    paths, images = args
    cv2.setNumThreads(1)
    pictures = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    detector = HogPersonDetector(min_score=0.5)
    detector.detect(pictures[:1])
    t0 = time.perf_counter()
    for i in range(images):
        detector.detect([pictures[i % len(pictures)]])
    return time.perf_counter() - t0


def measure(photos: list[str], images: int = 16, runs: int = 3) -> dict:
    os.environ["OPENCV_FOR_THREADS_NUM"] = "1"
    rates: dict[int, list[float]] = {1: [], 2: []}
    ctx = mp.get_context("spawn")
    for _ in range(runs):
        for procs in (1, 2):
            with ctx.Pool(procs) as pool:
                walls = pool.map(_detect_loop, [(photos, images)] * procs)
            rates[procs].append(procs * images / max(walls))
    one, two = statistics.median(rates[1]), statistics.median(rates[2])
    return {"images_per_process": images, "runs": runs, "img_per_s": {"1": one, "2": two}, "speedup": two / one,
            "all": {str(k): v for k, v in rates.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", nargs="+", required=True)
    parser.add_argument("--images", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.photos, args.images, args.runs)
    common.write_json("scaling-ceiling", result)
    common.say(f"HOG in plain processes: 1 -> 2 processes {result['speedup']:.2f}x")


if __name__ == "__main__":
    main()
