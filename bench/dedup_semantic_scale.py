"""Scale of the semantic (SemDeDup) pass: time and memory for N synthetic 768-d embeddings on Ray.

    .venv/bin/python bench/dedup_semantic_scale.py --n 100000 --workers 1 2
    .venv/bin/python bench/dedup_semantic_scale.py --n 1000000 --workers 2

Each run starts a fresh embedded Ray with `--workers` CPUs, puts the embeddings into the object store in
blocks of 10,000 rows (what one shard's sidecar read task returns), and times
humanverse.dedup.semantic.semantic_matches, the function `humanverse dedup` runs: k-means on a sample
(partial sums per block, one Ray task each), the assignment and split by cluster (one task per block),
and the within-cluster step (one task per partition). Peak memory is the whole process tree's (driver,
raylet, workers, object store pages they touch), sampled by bench/tree_sampler.py. 1% of rows are planted
near-copies (cosine ~0.99) of other rows: the recall is reported so the timing is of a pass that works.
Results go to bench/.out/dedup_semantic_{n}_{workers}w.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np

from common import OUT, REPO, load_avg, machine

BLOCK = 10_000
DIM = 768


def make_block(rng, topics: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows around topic centres (unrelated photos of a kind: cosine ~0.5), the last 1% copies of others."""
    x = topics[rng.integers(0, len(topics), rows)] + rng.normal(size=(rows, DIM)).astype(np.float32) / np.sqrt(DIM)
    planted = max(1, rows // 100)
    src = rng.integers(0, rows - planted, planted)
    x[rows - planted:] = x[src] + 0.12 * rng.normal(size=(planted, DIM)).astype(np.float32) / np.sqrt(DIM)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float16), src


def one_run(n: int, workers: int) -> dict:
    sys.path.insert(0, str(REPO))
    import ray

    from humanverse.dedup.config import DedupConfig
    from humanverse.dedup.semantic import semantic_matches
    from humanverse.engine import ray_runtime
    from humanverse.engine.dedup_ray import RayExecutor
    from tree_sampler import TreeSampler

    ray_runtime.init(None, num_cpus=workers)
    rng = np.random.default_rng(0)
    topics = rng.normal(size=(1000, DIM)).astype(np.float32)
    topics /= np.linalg.norm(topics, axis=1, keepdims=True)
    handles, sizes, planted = [], [], []
    t0 = time.perf_counter()
    for start in range(0, n, BLOCK):
        rows = min(BLOCK, n - start)
        block, src = make_block(rng, topics, rows)
        handles.append(ray.put(block))
        sizes.append(rows)
        planted += [(start + rows - len(src) + i, start + int(s)) for i, s in enumerate(src)]
        del block
    generate_s = time.perf_counter() - t0
    rank = rng.permutation(n)
    cfg = DedupConfig()
    timings: dict = {}
    with TreeSampler(interval_s=0.5) as sampler:
        t0 = time.perf_counter()
        offsets = np.cumsum([0, *sizes[:-1]]).tolist()
        found = semantic_matches(RayExecutor(), list(zip(handles, offsets, sizes)), n, rank, cfg, timings)
        wall = time.perf_counter() - t0
    hits = sum(1 for copy, src in planted if found.matched[copy] == src or found.matched[src] == copy
               or (found.matched[copy] >= 0 and found.matched[copy] == found.matched[src]))
    ray.shutdown()
    return {
        "n": n, "dim": DIM, "workers": workers, "blocks": len(handles), "wall_s": wall, "generate_s": generate_s,
        **timings, "marked": found.n_marked, "planted": len(planted), "planted_found": hits,
        "threshold": cfg.semantic.threshold, "cluster_size": cfg.semantic.cluster_size, **sampler.result(),
        "load_avg": load_avg(), "machine": machine(),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(one_run(args.n, args.workers[0])))
        return
    for w in args.workers:  # a fresh process (and Ray) per configuration
        proc = subprocess.run([sys.executable, __file__, "--one", "--n", str(args.n), "--workers", str(w)],
                              capture_output=True, text=True, check=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        (OUT / f"dedup_semantic_{args.n}_{w}w.json").write_text(json.dumps(result, indent=1))
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}))


if __name__ == "__main__":
    main()
