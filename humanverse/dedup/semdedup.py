"""SemDeDup within one k-means cluster (Abbas et al. 2023, "SemDeDup: data-efficient learning at web-scale
through semantic deduplication"; the cluster-level step of NeMo Curator's semantic dedup).

The cluster's members are put in keep order (humanverse/dedup/ranking.py: NeMo's `which_to_keep` hook,
with our own rule in place of distance to the centroid), their cosine similarities computed in row blocks
(never the whole n x n matrix at once), and each member compared only with the members ranked before it:
its best match there, if the cosine is at least the threshold, makes it a duplicate.
"""

from __future__ import annotations

import numpy as np
import torch

from humanverse.dedup.kmeans import _device, normalize


def cluster_matches(embeddings: np.ndarray, rank: np.ndarray, threshold: float, block: int = 2048
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(member, better-ranked member it duplicates, cosine) for every member whose best cosine with the
    members ranked before it is >= threshold. Positions index the given arrays."""
    n = len(embeddings)
    if n < 2:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float32)
    order = np.argsort(rank, kind="stable")
    dev = _device()
    x = torch.from_numpy(normalize(embeddings[order])).to(dev)
    members, matches, sims = [], [], []
    for start in range(1, n, block):
        stop = min(n, start + block)
        # rows start..stop-1 against the columns before them (strictly earlier in keep order)
        s = x[start:stop] @ x[:stop].T
        rows = torch.arange(start, stop, device=dev)[:, None]
        s = s.masked_fill(torch.arange(stop, device=dev)[None, :] >= rows, -2.0)
        best = s.max(dim=1)
        hit = (best.values >= threshold).cpu().numpy()
        if hit.any():
            members.append(np.arange(start, stop)[hit])
            matches.append(best.indices.cpu().numpy()[hit])
            sims.append(best.values.cpu().numpy()[hit])
    if not members:
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0, np.float32)
    return order[np.concatenate(members)], order[np.concatenate(matches)], np.concatenate(sims)
