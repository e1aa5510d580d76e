"""Condition dropout: captions become "" and maps become zeros, each independently, at the configured rates."""

import math

import pytest
import torch

from humanverse.train.refiner.dropout import drop_conditions


def _within(observed: float, rate: float, n: int, sigmas: float = 5.0) -> bool:
    return abs(observed - rate) <= sigmas * math.sqrt(rate * (1 - rate) / n) + 1e-9


@pytest.mark.parametrize("text_rate, map_rate", [(0.5, 0.5), (0.1, 0.3)])
def test_rates_are_the_configured_ones_and_draws_are_independent(text_rate, map_rate):
    n = 4000
    captions = [f"caption {i}" for i in range(n)]
    maps = {"pose": torch.rand(n, 3, 2, 2) + 0.1, "depth": torch.rand(n, 1, 2, 2) + 0.1,
            "normal": torch.rand(n, 3, 2, 2) + 0.1}
    out = drop_conditions(captions, maps, text_rate, map_rate, torch.Generator().manual_seed(0))

    empty = torch.tensor([c == "" for c in out.captions])
    assert torch.equal(empty, out.text_mask)
    assert _within(empty.float().mean().item(), text_rate, n)
    kept = [c for c, drop in zip(out.captions, empty.tolist()) if not drop]
    assert kept == [c for c, drop in zip(captions, empty.tolist()) if not drop]

    for name, value in out.maps.items():
        zeroed = (value.flatten(1) == 0).all(dim=1)
        assert torch.equal(zeroed, out.map_masks[name])
        assert _within(zeroed.float().mean().item(), map_rate, n)
        assert torch.equal(value[~zeroed], maps[name][~zeroed])  # kept maps are untouched
    both = (out.map_masks["depth"] & out.map_masks["normal"]).float().mean().item()
    assert _within(both, map_rate * map_rate, n)  # independent per map
    with_text = (out.map_masks["pose"] & out.text_mask).float().mean().item()
    assert _within(with_text, map_rate * text_rate, n)  # and independent of the text


def test_rates_zero_and_one_and_reproducibility():
    captions, maps = ["a", "b"], {"depth": torch.ones(2, 1, 4, 4)}
    none = drop_conditions(captions, maps, 0.0, 0.0)
    assert none.captions == captions and torch.equal(none.maps["depth"], maps["depth"])
    everything = drop_conditions(captions, maps, 1.0, 1.0)
    assert everything.captions == ["", ""] and torch.count_nonzero(everything.maps["depth"]) == 0
    first = drop_conditions(["x"] * 64, {"depth": torch.ones(64, 1, 1, 1)}, 0.5, 0.5, torch.Generator().manual_seed(3))
    again = drop_conditions(["x"] * 64, {"depth": torch.ones(64, 1, 1, 1)}, 0.5, 0.5, torch.Generator().manual_seed(3))
    assert first.captions == again.captions and torch.equal(first.maps["depth"], again.maps["depth"])
