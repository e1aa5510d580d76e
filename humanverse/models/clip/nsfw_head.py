"""LAION's CLIP-based NSFW detector for ViT-L/14 embeddings, in its published PyTorch form.

LAION-AI/CLIP-based-NSFW-Detector first shipped this model as an AutoKeras/TensorFlow SavedModel
(`clip_autokeras_binary_nsfw.zip`). A PyTorch port was later attached to that repository's issue #7:
github.com/LAION-AI/CLIP-based-NSFW-Detector/files/10250461/clip_autokeras_binary_nsfw.zip, which holds
`clip_autokeras_binary_nsfw.pth`, a plain state dict (NeMo Curator loads the same file). That is the file
we load, so neither Keras nor TensorFlow is needed. Its keys: norm.mean and norm.variance (768, the Keras
Normalization layer's statistics), then linear_1..linear_4 (768→64→512→256→1, ReLU between, sigmoid out).
The output is a probability in 0–1 that the image is NSFW. LAION-5B's `punsafe` column comes from this
detector on the same normalised ViT-L/14 embeddings, so the two are comparable; COYO's
`nsfw_score_opennsfw2` comes from a different model and is not.

For users who only have the Keras original, nsfw_keras_convert.py turns its weights into this file.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from humanverse.models.clip.clip_published import NSFW_FILE as PUBLISHED_FILE
EMBED_DIM = 768
HIDDEN = (64, 512, 256)


class _Normalization(nn.Module):
    """Keras' Normalization layer: (x - mean) / sqrt(variance), statistics learned from the training set."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("variance", torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.variance.sqrt()


class NSFWHead(nn.Module):
    """Module names match the published state dict, so it loads with strict=True."""

    def __init__(self, input_size: int = EMBED_DIM):
        super().__init__()
        self.norm = _Normalization(input_size)
        self.linear_1 = nn.Linear(input_size, HIDDEN[0])
        self.linear_2 = nn.Linear(HIDDEN[0], HIDDEN[1])
        self.linear_3 = nn.Linear(HIDDEN[1], HIDDEN[2])
        self.linear_4 = nn.Linear(HIDDEN[2], 1)

    def forward(self, normalised_embedding: torch.Tensor) -> torch.Tensor:
        """(N, 768) unit-norm embeddings -> (N,) probabilities in 0–1."""
        x = self.norm(normalised_embedding)
        x = torch.relu(self.linear_1(x))
        x = torch.relu(self.linear_2(x))
        x = torch.relu(self.linear_3(x))
        return torch.sigmoid(self.linear_4(x)).squeeze(-1)


def load_nsfw_head(path: str | Path, device: str = "cpu") -> NSFWHead:
    """Load the published .pth with weights_only=True and strict keys and shapes."""
    state = torch.load(str(path), map_location="cpu", weights_only=True)
    if "linear_1.weight" not in state:
        raise ValueError(
            f"{path}: not the PyTorch CLIP-based NSFW detector (no linear_1.weight); "
            "convert the Keras original with `python -m humanverse.models.clip.nsfw_keras_convert`"
        )
    model = NSFWHead(input_size=int(state["linear_1.weight"].shape[1]))
    model.load_state_dict(state, strict=True)
    return model.to(device).eval()


def build_demo_weights(target_dir: Path, seed: int = 0) -> Path:
    """Write random weights as `clip_autokeras_binary_nsfw.pth` (published keys and shapes) for demo and tests.

    The output bias is set to -3 (probability about 0.05) so that a demo run with random weights does not
    reject everything as NSFW; the scores mean nothing.
    """
    torch.manual_seed(seed)
    model = NSFWHead()
    with torch.no_grad():
        model.norm.mean.normal_(0.0, 0.01)
        model.norm.variance.uniform_(0.5, 2.0).mul_(1.0 / EMBED_DIM)
        model.linear_4.bias.fill_(-3.0)
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / PUBLISHED_FILE
    torch.save(model.state_dict(), path)
    return path
