"""Shared fixtures for trainer tests: one torch thread (the test machine's cores are shared, and
oversubscribed threads make tiny models 30x slower), tiny contract shards, the tiny preset."""

from __future__ import annotations

import pytest

from humanverse.train.common.config import load_config
from humanverse.train.lsd.config import LSDConfig
from tests.support.torch_threads import _one_torch_thread  # noqa: F401 (autouse)
from tests.train.shard_factory import write_shards


@pytest.fixture(scope="session")
def shards(tmp_path_factory) -> list[str]:
    """Two shards of four samples; every fifth sample lacks an annotation."""
    return write_shards(tmp_path_factory.mktemp("shards"), num_shards=2, per_shard=4, broken_every=5)


def tiny_config(*overrides: str) -> LSDConfig:
    return load_config(LSDConfig, preset="lsd_tiny", overrides=list(overrides))


@pytest.fixture(scope="session")
def hand_shards(tmp_path_factory) -> list[str]:
    """One shard of four samples in the hands contract's form; the fourth lists no hands."""
    from tests.train.hand.hand_shards import write_hand_shards

    return write_hand_shards(tmp_path_factory.mktemp("hand_shards"), per_shard=4, without_hands_every=4)


@pytest.fixture(scope="session")
def trained_hand_runs(hand_shards, tmp_path_factory):
    """Tiny hand and hand-body runs, 2 steps each with a checkpoint at every step (random weights)."""
    import torch

    from humanverse.train.common import cli as train_cli

    root = tmp_path_factory.mktemp("hand_runs")
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # session fixtures run before the per-test one-thread fixture
    try:
        for method, preset in (("hand", "hand_tiny"), ("hand-body", "hand_body_tiny")):
            assert train_cli.main([method, "--data", *hand_shards, "--output", str(root / method), "--preset",
                                   preset, "--max-steps", "2", "--set", "loop.checkpointing_steps=1"]) == 0
    finally:
        torch.set_num_threads(before)
    return root
