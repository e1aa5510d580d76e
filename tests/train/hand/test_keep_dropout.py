"""hand-body's kept-region dropout: a dropped sample keeps nothing (all painted from the skeleton), a kept one
is untouched, and rate 0 draws nothing (runs without it stay the same draw for draw)."""

import pytest
import torch

from humanverse.train.hand_body.config import HandBodyObjectiveConfig
from humanverse.train.hand_body.train import drop_keep


def test_rate_zero_returns_keep_and_draws_nothing():
    keep = torch.ones(4, 1, 8, 8)
    generator = torch.Generator().manual_seed(0)
    state = generator.get_state()
    assert drop_keep(keep, 0.0, generator) is keep
    assert torch.equal(generator.get_state(), state)


def test_each_sample_is_either_emptied_or_untouched():
    keep = (torch.rand(64, 1, 8, 8, generator=torch.Generator().manual_seed(1)) > 0.5).float()
    out = drop_keep(keep, 0.5, torch.Generator().manual_seed(2))
    emptied = [bool((o == 0).all()) and bool(k.any()) for o, k in zip(out, keep)]
    untouched = [torch.equal(o, k) for o, k in zip(out, keep)]
    assert all(e or u for e, u in zip(emptied, untouched))
    assert 16 < sum(emptied) < 48  # about half of 64
    assert torch.equal(drop_keep(keep, 1.0), torch.zeros_like(keep))


def test_the_rate_is_a_typed_probability():
    assert HandBodyObjectiveConfig().keep_dropout == 0.0
    with pytest.raises(ValueError):
        HandBodyObjectiveConfig(keep_dropout=1.5)
