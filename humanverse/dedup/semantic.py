"""Semantic near-duplicates, distributed: SemDeDup over the run's CLIP embeddings. k-means by partial sums
per block (humanverse/dedup/kmeans.py), a split of every block by cluster, then the within-cluster step
(humanverse/dedup/semdedup.py) once per partition of the clusters."""

from __future__ import annotations

import math
import time

import numpy as np

from humanverse.dedup import kmeans, semdedup
from humanverse.dedup.config import DedupConfig
from humanverse.dedup.executor import Executor
from humanverse.dedup.marking import Matches


def semantic_matches(executor: Executor, blocks: list[tuple], n: int, rank: np.ndarray, cfg: DedupConfig,
                     timings: dict | None = None) -> Matches:
    """SemDeDup: k-means on Ray (partial sums per block), then the within-cluster step in partitions.

    blocks: (handle of a float16 rows x dim array, global index of its first row, rows) per shard with
    embeddings; n: all samples of the run (rank is over them). `timings`, when given, receives the seconds
    of each phase and the sizes that decide them."""
    s = cfg.semantic
    timings = {} if timings is None else timings
    t0 = time.perf_counter()
    out = Matches.none("semantic", n)
    blocks = [(h, size, off) for h, off, size in blocks if size]
    m = sum(size for _, size, _ in blocks)
    if m < 2:
        return out
    k = max(1, min(m, s.clusters or math.ceil(m / s.cluster_size)))
    train = min(m, k * s.train_per_cluster)
    samples = [executor.submit(_sample_rows, h, math.ceil(size * train / m), s.seed + i)
               for i, (h, size, _) in enumerate(blocks)]
    # one training chunk per worker, so each k-means step is a few tasks whatever the number of shards
    chunks = max(1, min(len(samples), executor.parallelism))
    samples = [executor.submit(_concat_rows, *[samples[i] for i in group])
               for group in np.array_split(np.arange(len(samples)), chunks)]
    seeds = executor.get([executor.submit(_sample_rows, h, math.ceil(size * k / m) + 1, s.seed + i)
                          for i, (h, size, _) in enumerate(blocks)])
    centroids = kmeans.init_centroids(np.concatenate(seeds), k, s.seed)
    previous = -np.inf
    iteration = 0
    for iteration in range(1, s.iterations + 1):
        c = executor.put(centroids)
        parts = executor.get([executor.submit(kmeans.partial_sums, h, c) for h in samples])
        sums = np.sum([p[0] for p in parts], axis=0)
        counts = np.sum([p[1] for p in parts], axis=0)
        objective = float(sum(p[2] for p in parts))
        centroids = kmeans.update(centroids, sums, counts)
        if objective - previous <= 1e-5 * max(1.0, abs(objective)):
            break
        previous = objective
    timings.update(kmeans_s=time.perf_counter() - t0, clusters=k, train_rows=train, iterations=iteration)
    t0 = time.perf_counter()
    c = executor.put(centroids)
    partitions = max(1, min(k, s.partitions or 2 * executor.parallelism))
    pieces = [executor.submit(_split_by_cluster, h, c, rank[off:off + size], off, partitions,
                              num_returns=partitions) for h, size, off in blocks]
    pieces = [p if partitions > 1 else (p,) for p in pieces]
    results = executor.get([executor.submit(_partition_matches, s.threshold, *[p[j] for p in pieces])
                            for j in range(partitions)])
    timings.update(assign_and_pairs_s=time.perf_counter() - t0, partitions=partitions,
                   pairs_task_s=sum(r[3] for r in results), pairs_compared=sum(r[4] for r in results))
    member = np.concatenate([r[0] for r in results]) if results else np.zeros(0, np.int64)
    match = np.concatenate([r[1] for r in results]) if results else np.zeros(0, np.int64)
    sim = np.concatenate([r[2] for r in results]) if results else np.zeros(0, np.float32)
    out.matched[member] = match
    out.score[member] = sim
    out.detail[member] = [f"clip cosine {v:.4f}" for v in sim]
    return out


def _sample_rows(block: np.ndarray, m: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    m = min(m, len(block))
    return block[np.sort(rng.choice(len(block), size=m, replace=False))]


def _concat_rows(*blocks: np.ndarray) -> np.ndarray:
    return np.concatenate(blocks)


def _split_by_cluster(block: np.ndarray, centroids: np.ndarray, rank: np.ndarray, offset: int, partitions: int):
    labels, _ = kmeans.assign(block, centroids)
    part = labels % partitions
    pieces = []
    for j in range(partitions):
        rows = np.flatnonzero(part == j)
        pieces.append((rows + offset, labels[rows], rank[rows], block[rows]))
    return pieces[0] if partitions == 1 else tuple(pieces)


def _partition_matches(threshold: float, *pieces) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """(member, match, cosine) over this partition's clusters, plus its compute seconds and the number of
    similarities it computed (sum of n_c^2 / 2), for the scale figures."""
    started = time.perf_counter()
    labels = np.concatenate([p[1] for p in pieces])
    order = np.argsort(labels, kind="stable")
    # sorted by cluster once, so each cluster below is a view, not a copy
    labels = labels[order]
    index = np.concatenate([p[0] for p in pieces])[order]
    rank = np.concatenate([p[2] for p in pieces])[order]
    emb = np.concatenate([p[3] for p in pieces])[order]
    del pieces
    bounds = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1], True])
    member, match, sim = [], [], []
    compared = int(sum((hi - lo) * (hi - lo - 1) // 2 for lo, hi in zip(bounds[:-1], bounds[1:])))
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        m, b, s = semdedup.cluster_matches(emb[lo:hi], rank[lo:hi], threshold)
        member.append(index[lo:hi][m])
        match.append(index[lo:hi][b])
        sim.append(s)
    seconds = time.perf_counter() - started
    if not member:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), seconds, compared
    return np.concatenate(member), np.concatenate(match), np.concatenate(sim), seconds, compared
