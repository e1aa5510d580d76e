"""The `humanverse dedup` parameters; they are recorded in OUT/dedup/manifest.json with what they were
validated on (README, *Deduplication*)."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import Field

from humanverse.config_base import Section

METHODS = ("exact", "perceptual", "semantic")
# What each default threshold was validated on (recorded in OUT/dedup/manifest.json; numbers in bench/DEDUP.md).
VALIDATED_ON = {
    "exact": "identity; the shared kit's 45 photos: every same-bytes, re-hosted and lossless copy found, 0 false pairs",
    "perceptual": "max_distance 10 on the shared kit's 45 photos x 8 derived copies: resized/JPEG-q20/mirrored "
                  "45/45, watermark 43/45, 10% crop 26/45, 0 false pairs in 990 unrelated pairs",
    "semantic": "threshold 0.95 on synthetic planted groups only (no real CLIP weights here): NOT validated on "
                "real CLIP ViT-L/14 embeddings",
}
Method = Literal["exact", "perceptual", "semantic"]


class ExactConfig(Section):
    """Identity: the same normalised URL, or pixel-identical images (the pixel digest of the upright RGB pixels)."""

    url: bool = True
    pixels: bool = True


class PerceptualConfig(Section):
    """pHash (64 bits) within `max_distance` bits, also against the mirrored image's hash.

    max_distance 10: validated on the shared kit's 45 photos and 7 derived copies of each
    (bench/dedup_kit.py, bench/RESULTS.md, DEDUP): every resized, re-encoded and mirrored copy, 43 of 45
    watermark strips and 26 of 45 10% crops found, no false pair; the closest two different kit photos are
    16 bits apart. 990 unrelated pairs is thin evidence for a web-scale false-positive rate: audit a sample.
    """

    max_distance: int = Field(10, ge=0, le=24)
    mirror: bool = True
    bands: int = Field(4, ge=1, le=16)


class SemanticConfig(Section):
    """SemDeDup on the sidecar's CLIP ViT-L/14 embeddings (curate with `clip.keep_embeddings: true`).

    threshold 0.95 (cosine; NeMo Curator calls 1 - threshold `eps`) is NOT validated on real CLIP
    embeddings (none can run here); it was only checked on synthetic planted groups. Tune it on your data.
    """

    threshold: float = Field(0.95, gt=0.0, le=1.0)
    cluster_size: int = Field(2000, ge=2)
    """Target members per k-means cluster; clusters = ceil(n / cluster_size) unless `clusters` is set."""
    clusters: int | None = Field(None, ge=1)
    iterations: int = Field(20, ge=1)
    train_per_cluster: int = Field(128, ge=1)
    """k-means trains on at most this many samples per cluster (faiss caps at 256); all are assigned."""
    partitions: int | None = Field(None, ge=1)
    """How many Ray tasks share the within-cluster step (default: twice the CPUs Ray reports)."""
    seed: int = 0


class DedupConfig(Section):
    methods: list[Method] = Field(default_factory=lambda: list(METHODS))
    exact: ExactConfig = ExactConfig()
    perceptual: PerceptualConfig = PerceptualConfig()
    semantic: SemanticConfig = SemanticConfig()

    def method_params(self, method: str) -> dict:
        return getattr(self, method).model_dump(mode="json")

    def method_digest(self, method: str) -> str:
        return hashlib.sha256(json.dumps(self.method_params(method), sort_keys=True).encode()).hexdigest()[:16]
