"""From similar pairs to marks: which sample is a duplicate, and of which kept sample.

The rule is SemDeDup's (Abbas et al. 2023), applied to every method: walk the samples in keep order
(humanverse/dedup/ranking.py); a sample is a duplicate when it is similar to ANY sample ranked before it,
kept or not. Each method therefore only needs, per sample, its most similar better-ranked neighbour
(`Matches`): a few bytes per sample whatever the group sizes. `duplicate_of` follows the chain of
neighbours to the first sample that has none, which is kept, so every mark names a kept representative.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Matches:
    """Per sample i: matched[i] is its most similar better-ranked neighbour (-1: none), with score[i] the
    similarity in [0, 1] (1 = identical) and detail[i] a few words saying how it matched."""

    method: str
    matched: np.ndarray
    score: np.ndarray
    detail: np.ndarray

    @classmethod
    def none(cls, method: str, n: int) -> Matches:
        return cls(method, np.full(n, -1, np.int64), np.zeros(n, np.float64), np.full(n, "", dtype=object))

    @property
    def n_marked(self) -> int:
        return int((self.matched >= 0).sum())


def best_better_neighbour(method: str, n: int, a: np.ndarray, b: np.ndarray, score: np.ndarray,
                          rank: np.ndarray, detail: np.ndarray | None = None) -> Matches:
    """Reduce undirected similar pairs (a, b, score) to Matches: each pair points from the worse-ranked
    sample to the better one; a sample keeps its most similar pointer (ties: the better-ranked one)."""
    out = Matches.none(method, n)
    if not len(a):
        return out
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    worse = np.where(rank[a] > rank[b], a, b)
    better = np.where(rank[a] > rank[b], b, a)
    detail = np.full(len(a), "", dtype=object) if detail is None else np.asarray(detail, dtype=object)
    order = np.lexsort((rank[better], -np.asarray(score, np.float64), worse))
    first = order[np.r_[True, worse[order][1:] != worse[order][:-1]]]
    out.matched[worse[first]] = better[first]
    out.score[worse[first]] = np.asarray(score, np.float64)[first]
    out.detail[worse[first]] = detail[first]
    return out


def groups_to_matches(method: str, group: np.ndarray, rank: np.ndarray, detail: str) -> Matches:
    """Exact duplicates: samples with the same group id (-1: no id) point at the group's best sample."""
    n = len(group)
    out = Matches.none(method, n)
    valid = np.flatnonzero(group >= 0)
    if not len(valid):
        return out
    order = valid[np.lexsort((rank[valid], group[valid]))]
    starts = np.r_[True, group[order][1:] != group[order][:-1]]
    head = order[np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0))]
    dup = ~starts
    out.matched[order[dup]] = head[dup]
    out.score[order[dup]] = 1.0
    out.detail[order[dup]] = detail
    return out


def combine(per_method: list[Matches]) -> tuple[Matches, np.ndarray]:
    """One mark per sample across methods, and the method that made it: the first method in the list that
    marks a sample wins (callers list exact, then perceptual, then semantic, the order of confidence)."""
    n = len(per_method[0].matched)
    out = Matches.none("+".join(m.method for m in per_method), n)
    method = np.full(n, "", dtype=object)
    for m in per_method:
        take = (out.matched < 0) & (m.matched >= 0)
        out.matched[take], out.score[take], out.detail[take] = m.matched[take], m.score[take], m.detail[take]
        method[take] = m.method
    return out, method


def resolve(matched: np.ndarray) -> np.ndarray:
    """duplicate_of per sample (-1 for kept ones): follow matched until a sample with no match. Pointer
    jumping, so a chain of length L costs log2(L) vectorised steps."""
    parent = np.where(matched >= 0, matched, np.arange(len(matched)))
    while True:
        grand = parent[parent]
        if np.array_equal(grand, parent):
            break
        parent = grand
    return np.where(matched >= 0, parent, -1)
