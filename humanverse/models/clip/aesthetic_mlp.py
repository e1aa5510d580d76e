"""The LAION improved aesthetic predictor: a linear MLP on the L2-normalised CLIP ViT-L/14 image embedding.

Published as `sac+logos+ava1-l14-linearMSE.pth` (github.com/christophschuhmann/improved-aesthetic-predictor), a
plain torch state dict with keys layers.{0,2,4,6,7}.{weight,bias}: Linear 768→1024, Dropout, Linear 1024→128,
Dropout, Linear 128→64, Dropout, Linear 64→16, Linear 16→1. There are no activations (it was trained that way).
Its output is on the LAION 1–10 rating scale, the same scale as the `AESTHETIC_SCORE` column of LAION's
aesthetic subsets and COYO's `aesthetic_score_laion_v2`, and the HumanVerse threshold 4.5 is on that scale.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from humanverse.models.clip.clip_published import AESTHETIC_FILE as PUBLISHED_FILE
EMBED_DIM = 768
SCALE = "1-10"


class AestheticMLP(nn.Module):
    """Same module layout as the published checkpoint, so its state dict loads with strict=True."""

    def __init__(self, input_size: int = EMBED_DIM):
        super().__init__()
        self.input_size = input_size
        self.layers = nn.Sequential(
            nn.Linear(input_size, 1024),
            nn.Dropout(0.2),
            nn.Linear(1024, 128),
            nn.Dropout(0.2),
            nn.Linear(128, 64),
            nn.Dropout(0.1),
            nn.Linear(64, 16),
            nn.Linear(16, 1),
        )

    def forward(self, normalised_embedding: torch.Tensor) -> torch.Tensor:
        """(N, 768) unit-norm embeddings -> (N,) scores on the 1–10 scale."""
        return self.layers(normalised_embedding).squeeze(-1)


def load_aesthetic_mlp(path: str | Path, device: str = "cpu") -> AestheticMLP:
    """Load the published state dict as published: weights_only, strict keys and shapes, eval mode."""
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    first = state.get("layers.0.weight")
    if first is None:
        raise ValueError(f"{path}: missing or wrong format: not an improved-aesthetic-predictor state dict (no "
                         "layers.0.weight); `humanverse models import laion-aesthetic-v2 FILE` checks a file")
    model = AestheticMLP(input_size=int(first.shape[1]))
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def build_demo_weights(target_dir: Path, seed: int = 0) -> Path:
    """Write random weights in the published format (file name, keys, shapes) for the demo preset and tests.

    The last bias is set to 5.0, about the mean LAION rating, so a demo run keeps some images at 4.5
    instead of rejecting all of them; every other weight is random. Scores from these weights mean nothing.
    """
    torch.manual_seed(seed)
    model = AestheticMLP()
    with torch.no_grad():
        model.layers[7].bias.fill_(5.0)
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / PUBLISHED_FILE
    torch.save(model.state_dict(), path)
    return path
