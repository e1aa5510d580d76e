"""FID, KID and CLIP score from cached features (image_features.py), with torchmetrics doing the maths.

The features are computed once per image set and stored, so a resumed eval and the self-check's many
variants do not run the networks again; torchmetrics' metrics are fed those features through an identity
"feature network", which is how they accept a custom extractor.
"""

from __future__ import annotations

import numpy as np
import torch


class _Precomputed(torch.nn.Module):
    """Passes feature rows through: torchmetrics calls its feature network on what `update` is given."""

    def __init__(self, dim: int):
        super().__init__()
        self.num_features = dim

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return features


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    from torchmetrics.image.fid import FrechetInceptionDistance

    metric = FrechetInceptionDistance(feature=_Precomputed(real.shape[1])).double()
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    return float(metric.compute())


def kernel_distance(real: np.ndarray, fake: np.ndarray, subset_size: int = 1000, seed: int = 0) -> tuple[float, float]:
    """KID (mean, std over subsets), with the subset size capped at the number of samples."""
    from torchmetrics.image.kid import KernelInceptionDistance

    torch.manual_seed(seed)  # KID draws random subsets
    size = min(subset_size, len(real), len(fake))
    metric = KernelInceptionDistance(feature=_Precomputed(real.shape[1]), subset_size=size).double()
    metric.update(torch.from_numpy(real), real=True)
    metric.update(torch.from_numpy(fake), real=False)
    mean, std = metric.compute()
    return float(mean), float(std)


def clip_score(image_embeddings: np.ndarray, text_embeddings: np.ndarray) -> float:
    """Mean of 100 x max(cos(image, caption), 0) over matched pairs (Hessel et al. 2021, w = 1, as in
    torchmetrics' CLIPScore); the embeddings are L2-normalised."""
    cos = (image_embeddings * text_embeddings).sum(axis=1)
    return float(np.mean(100.0 * np.clip(cos, 0, None)))
