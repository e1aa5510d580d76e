"""Shared fixtures for trainer tests: one torch thread (the test machine's cores are shared, and
oversubscribed threads make tiny models 30x slower), tiny contract shards, the tiny preset."""

from __future__ import annotations

import pytest
import torch

from humanverse.train.common.config import load_config
from humanverse.train.lsd.config import LSDConfig
from tests.train.shard_factory import write_shards


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def shards(tmp_path_factory) -> list[str]:
    """Two shards of four samples; every fifth sample lacks an annotation."""
    return write_shards(tmp_path_factory.mktemp("shards"), num_shards=2, per_shard=4, broken_every=5)


def tiny_config(*overrides: str) -> LSDConfig:
    return load_config(LSDConfig, preset="lsd_tiny", overrides=list(overrides))
