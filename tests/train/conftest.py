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

