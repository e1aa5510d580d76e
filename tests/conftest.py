"""Fixtures shared across test packages: an embedded loopback Ray, a local image server, LAION-format
input for it, and one real curated output (made once per session, demo preset: HOG detection plus tiny
untrained pose/depth/normal models) for the report and loader tests."""

import os
import tempfile

import pytest

from tests.support.http_server import LocalHTTPServer
from tests.support.laion_input import HOG_DETECT, populate_image_root, write_laion_parquet

# The weights-digest store lives in the user's cache; tests (and the CLIs they start) keep their own.
os.environ["HUMANVERSE_CACHE"] = tempfile.mkdtemp(prefix="humanverse-test-cache-")


@pytest.fixture(scope="session")
def ray_local():
    """One embedded local Ray (loopback only) for the whole session; curate() reuses it."""
    from humanverse.engine import ray_runtime

    ray_runtime.local_ray_env()
    ray_runtime.init(None, num_cpus=2)
    yield
    import ray

    ray.shutdown()


@pytest.fixture(scope="session")
def image_server(tmp_path_factory):
    """Real photos (bus: HOG finds its people; zidane: it does not), a small image, and failure routes."""
    root = tmp_path_factory.mktemp("www")
    populate_image_root(root)
    with LocalHTTPServer(root) as srv:
        yield srv


@pytest.fixture
def laion_input(tmp_path, image_server):
    return write_laion_parquet(tmp_path / "part-00000.parquet", image_server, repeat=2)


@pytest.fixture(scope="session")
def curated_output(tmp_path_factory, image_server):
    """A real `curate` run (demo preset with HOG pinned, 4 rows per task, local executor) of the LAION-format
    input; treat it as read-only."""
    from humanverse import config
    from humanverse.engine.curate import curate

    root = tmp_path_factory.mktemp("curated")
    parquet = write_laion_parquet(root / "part-00000.parquet", image_server, repeat=2)
    cfg = config.resolve("demo", None, ["input.rows_per_task=4", *HOG_DETECT])
    result = curate(cfg, [parquet], str(root / "out"), allow_private_urls=True, engine="local")
    assert result.ok and result.summary["counts"]["ok"] >= 1, result.summary
    return str(root / "out")


@pytest.fixture(autouse=True)
def _loopback_env(monkeypatch):
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")


@pytest.fixture(scope="session")
def hand_shards(tmp_path_factory) -> list[str]:
    """Hand methods (train, sample, eval): one shard of four samples in the hands contract's form; the
    fourth lists no hands."""
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


@pytest.fixture(scope="session")
def every_member_run(tmp_path_factory) -> str:
    """A run folder (2 shards x 3 samples) whose every sample holds every member curate can write, with its
    dataset card (tests/support/every_member.py); read-only."""
    from tests.support.every_member import write_every_member_run

    return write_every_member_run(tmp_path_factory.mktemp("every_member"))
