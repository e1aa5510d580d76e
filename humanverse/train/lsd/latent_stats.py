"""Per-channel latent statistics, used to put depth and normal latents on the RGB latents' scale.

The SD VAE was trained on photos; depth and normal maps encode to latents with quite different means and
spreads, and a diffusion model trained with one noise schedule for all three needs them on a common scale
(HyperHuman §3.2). We measure each modality's per-channel mean/std once, at the start of a run, on that
run's data, and map depth/normal latents affinely onto the RGB statistics. The numbers are saved with the
run and in every checkpoint, so resuming and sampling use exactly the same transform.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from humanverse.shards import atomic
from humanverse.train.lsd.joint_denoise import from_rgb_scale


@dataclass(frozen=True)
class LatentStats:
    mean: dict[str, list[float]]
    std: dict[str, list[float]]

    def _shape(self, name: str, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = torch.tensor(self.mean[name], dtype=like.dtype, device=like.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std[name], dtype=like.dtype, device=like.device).view(1, -1, 1, 1)
        return mean, std

    def normalize(self, name: str, latents: torch.Tensor) -> torch.Tensor:
        """Map a modality's latents onto the RGB latents' per-channel mean and std (RGB passes through)."""
        if name == "rgb":
            return latents
        mean, std = self._shape(name, latents)
        rgb_mean, rgb_std = self._shape("rgb", latents)
        return (latents - mean) / std * rgb_std + rgb_mean

    def denormalize(self, name: str, latents: torch.Tensor) -> torch.Tensor:
        return from_rgb_scale(self.to_dict(), name, latents)

    def to_dict(self) -> dict:
        return {"mean": self.mean, "std": self.std}

    @classmethod
    def from_dict(cls, data: dict) -> "LatentStats":
        return cls(mean=dict(data["mean"]), std=dict(data["std"]))

    def save(self, path: str | Path) -> None:
        atomic.write_bytes(str(path), json.dumps(self.to_dict(), indent=2).encode())

    @classmethod
    def load(cls, path: str | Path) -> "LatentStats":
        return cls.from_dict(json.loads(Path(path).read_text()))


class StatsAccumulator:
    """Running per-channel sums; `reduce` lets each process measure its own batches and share the totals."""

    def __init__(self) -> None:
        self.sums: dict[str, torch.Tensor] = {}

    def add(self, name: str, latents: torch.Tensor) -> None:
        x = latents.detach().double().transpose(0, 1).reshape(latents.shape[1], -1)
        totals = torch.stack([x.sum(dim=1), (x * x).sum(dim=1), torch.full_like(x[:, 0], x.shape[1])])
        self.sums[name] = self.sums.get(name, 0) + totals

    def finish(self, reduce=lambda t: t, eps: float = 1e-6) -> LatentStats:
        mean, std = {}, {}
        for name in sorted(self.sums):
            s, s2, n = reduce(self.sums[name])
            m = s / n
            mean[name] = m.tolist()
            std[name] = (s2 / n - m * m).clamp_min(eps * eps).sqrt().tolist()
        return LatentStats(mean, std)
