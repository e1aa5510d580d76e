"""The refiner's condition embedders: one small conv stack per condition map, their outputs summed.

HyperHuman §3.3: each condition (pose, depth, normal) gets its own embedder of four convolutions with 4x4
kernels, ReLU, channels [16, 32, 96, 256], and the embeddings are summed, so one model accepts any subset of
the maps (a dropped or absent map is zeros) and a new condition (a hand crop) is one more embedder.

Strides. The paper's wording ("4x4 kernels, stride 2") is copied from the ControlNet paper, whose own
arithmetic does not hold: four stride-2 convs downscale 16x, but the ControlNet paper maps 512² conditions to
the 64² latent grid (8x), and ControlNet's code (and diffusers' ControlNetConditioningEmbedding, which quotes
that sentence) strides only three of its convs. We keep four 4x4 convs with the paper's channels and ReLU and
stride the last three, so the summed embedding lands exactly on the VAE's 8x-downscaled latent grid where
ControlNet adds it (after conv_in). The first, stride-1 conv pads asymmetrically (1 before, 2 after): an even
kernel has no centred "same" padding. Strides are configurable; their product must equal the VAE downscale.

The sum is projected to the ControlNet's first width by a zero-initialised 3x3 conv (as in ControlNet and
diffusers), so a fresh refiner starts out as exactly its frozen SDXL base.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class ConditionEmbedder(nn.Module):
    """One condition map (B, C, H, W) to features (B, channels[-1], H / prod(strides), W / prod(strides))."""

    def __init__(self, in_channels: int, channels=(16, 32, 96, 256), kernel_size: int = 4, strides=(1, 2, 2, 2)):
        super().__init__()
        layers: list[nn.Module] = []
        previous = in_channels
        for width, stride in zip(channels, strides):
            # Pad so each conv maps H to exactly H / stride, for even and odd kernels alike.
            total = kernel_size - stride
            layers += [
                nn.ZeroPad2d((total // 2, total - total // 2, total // 2, total - total // 2)),
                nn.Conv2d(previous, width, kernel_size=kernel_size, stride=stride),
                nn.ReLU(),
            ]
            previous = width
        self.layers = nn.Sequential(*layers)
        self.downscale = math.prod(strides)

    def stages(self, condition: torch.Tensor) -> list[torch.Tensor]:
        """The output of every conv (after its ReLU), for inspection and tests."""
        outputs, x = [], condition
        for layer in self.layers:
            x = layer(x)
            if isinstance(layer, nn.ReLU):
                outputs.append(x)
        return outputs

    def forward(self, condition: torch.Tensor) -> torch.Tensor:
        return self.layers(condition)


class SummedConditionEmbedding(nn.Module):
    """Stacked condition maps (channels concatenated in name order) to one embedding on the latent grid.

    It stands in for diffusers ControlNetModel's `controlnet_cond_embedding`, whose forward receives a single
    tensor, hence the stacking; `split` recovers the maps by their channel counts.
    """

    def __init__(self, conditions: dict[str, int], out_channels: int, channels=(16, 32, 96, 256),
                 kernel_size: int = 4, strides=(1, 2, 2, 2)):
        super().__init__()
        # Name order, not insertion order: a saved config's keys come back sorted, and stacking must not change.
        self.conditions = dict(sorted(conditions.items()))
        self.embedders = nn.ModuleDict(
            {name: ConditionEmbedder(c, channels, kernel_size, strides) for name, c in self.conditions.items()}
        )
        self.conv_out = nn.Conv2d(channels[-1], out_channels, kernel_size=3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    @property
    def downscale(self) -> int:
        return next(iter(self.embedders.values())).downscale

    def split(self, stacked: torch.Tensor) -> dict[str, torch.Tensor]:
        if stacked.shape[1] != sum(self.conditions.values()):
            raise ValueError(f"expected {sum(self.conditions.values())} stacked condition channels "
                             f"({self.conditions}), got {stacked.shape[1]}")
        return dict(zip(self.conditions, stacked.split(list(self.conditions.values()), dim=1)))

    def forward(self, stacked: torch.Tensor) -> torch.Tensor:
        maps = self.split(stacked)
        summed = sum(self.embedders[name](maps[name]) for name in self.conditions)
        return self.conv_out(summed)
