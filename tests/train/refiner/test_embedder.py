"""The per-condition embedders: four 4x4 convs with ReLU and channels [16, 32, 96, 256] ending on the latent
grid, one per map, summed, then a zero-initialised projection (so a fresh refiner is its frozen base)."""

import pytest
import torch
from torch import nn

from humanverse.train.refiner.config import ConditionEmbedderConfig
from humanverse.train.refiner.embedder import (
    ConditionEmbedder,
    SummedConditionEmbedding,
)

CONDITIONS = ConditionEmbedderConfig().conditions  # pose 3, depth 1, normal 3


@pytest.mark.parametrize("size", [64, 1024])  # the tiny preset's and the real preset's resolution
@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_each_embedder_shape_at_every_stage(name, size):
    channels = CONDITIONS[name]
    device = "cpu" if size <= 64 else "meta"  # full size on the meta device: shapes only, no compute
    with torch.device(device):
        embedder = ConditionEmbedder(channels)
        stages = embedder.stages(torch.rand(2, channels, size, size))
    assert [tuple(s.shape) for s in stages] == [
        (2, 16, size, size), (2, 32, size // 2, size // 2), (2, 96, size // 4, size // 4), (2, 256, size // 8, size // 8),
    ]
    convs = [m for m in embedder.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and all(c.kernel_size == (4, 4) for c in convs)
    assert [c.stride[0] for c in convs] == [1, 2, 2, 2]
    assert sum(isinstance(m, nn.ReLU) for m in embedder.modules()) == 4
    if device == "cpu":
        assert all((s >= 0).all() for s in stages)  # ReLU after every conv


def test_strides_are_configurable_and_set_the_downscale():
    embedder = ConditionEmbedder(3, strides=(2, 2, 2, 2))
    assert embedder(torch.rand(1, 3, 64, 64)).shape == (1, 256, 4, 4) and embedder.downscale == 16
    with pytest.raises(ValueError, match="one entry per conv"):
        ConditionEmbedderConfig(strides=(2, 2, 2))


def test_embeddings_are_summed_then_projected_from_zero():
    torch.manual_seed(0)
    summed = SummedConditionEmbedding(CONDITIONS, out_channels=32)
    maps = {name: torch.rand(2, c, 32, 32) for name, c in CONDITIONS.items()}
    stacked = torch.cat([maps[n] for n in sorted(CONDITIONS)], dim=1)  # stacked in name order
    assert torch.count_nonzero(summed(stacked)) == 0  # zero-initialised projection
    nn.init.normal_(summed.conv_out.weight)
    expected = summed.conv_out(sum(summed.embedders[n](maps[n]) for n in CONDITIONS))
    torch.testing.assert_close(summed(stacked), expected)
    assert summed.split(stacked)["depth"].shape == (2, 1, 32, 32)
    with pytest.raises(ValueError, match="stacked condition channels"):
        summed(stacked[:, :6])
    # A future condition (e.g. a hand crop) is one more entry, not a new module type.
    with_hand = SummedConditionEmbedding({**CONDITIONS, "hand": 3}, out_channels=32)
    assert set(with_hand.embedders) == {"pose", "depth", "normal", "hand"}
