"""Spherical k-means on L2-normalised embeddings (cosine similarity), in pieces a distributed pass can
spread: each block of embeddings yields partial sums; the sums of all blocks give the new centroids.

torch does the matrix products (CPU here, a GPU where there is one); every function takes and returns
numpy so blocks travel through Ray's object store without torch pickling.
"""

from __future__ import annotations

import numpy as np
import torch


def _device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def init_centroids(sample: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k distinct samples chosen at random (k is capped at the sample size)."""
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(sample), size=min(k, len(sample)), replace=False)
    return normalize(sample[np.sort(pick)])


def assign(block: np.ndarray, centroids: np.ndarray, chunk: int = 65536) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centroid (highest cosine) of each row and that cosine."""
    dev = _device()
    c = torch.from_numpy(np.ascontiguousarray(centroids, dtype=np.float32)).to(dev)
    labels, sims = [], []
    for start in range(0, len(block), chunk):
        x = torch.from_numpy(normalize(block[start:start + chunk])).to(dev)
        best = (x @ c.T).max(dim=1)
        labels.append(best.indices.cpu().numpy())
        sims.append(best.values.cpu().numpy())
    if not labels:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    return np.concatenate(labels).astype(np.int64), np.concatenate(sims)


def partial_sums(block: np.ndarray, centroids: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(per-centroid sum of assigned rows, counts, sum of cosines) for one block."""
    labels, sims = assign(block, centroids)
    sums = np.zeros_like(centroids, dtype=np.float64)
    np.add.at(sums, labels, normalize(block).astype(np.float64))
    return sums, np.bincount(labels, minlength=len(centroids)), float(sims.sum())


def update(centroids: np.ndarray, sums: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """New centroids: the normalised mean direction; an empty cluster keeps its old centroid."""
    new = np.where(counts[:, None] > 0, sums, centroids)
    return normalize(new)


def kmeans(x: np.ndarray, k: int, iterations: int = 20, seed: int = 0, tol: float = 1e-5
           ) -> tuple[np.ndarray, np.ndarray]:
    """Single-process k-means with the same pieces (tests, small runs): (centroids, labels)."""
    centroids = init_centroids(x, k, seed)
    previous = -np.inf
    for _ in range(iterations):
        sums, counts, objective = partial_sums(x, centroids)
        centroids = update(centroids, sums, counts)
        if objective - previous <= tol * max(1.0, abs(objective)):
            break
        previous = objective
    return centroids, assign(x, centroids)[0]
