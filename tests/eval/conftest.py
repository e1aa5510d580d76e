"""Eval fixtures: a models directory of random-weight feature networks in their published formats (InceptionV3
as torch-fidelity publishes it, a tiny open_clip CLIP, a tiny ViTPose), tiny contract shards, tiny trained runs."""

from __future__ import annotations

import pytest
import torch

from humanverse.models.clip.clip_embedder import TINY_ARCH, build_demo_weights
from humanverse.models.pose.pose_mmpose import DEMO_WEIGHTS
from humanverse.models.pose.pose_mmpose import build_demo_weights as build_pose
from humanverse.stages.pose import PoseConfig
from humanverse.eval.config import INCEPTION_SPEC, EvalConfig
from humanverse.eval.image_features import build_random_inception
from tests.support.torch_threads import _one_torch_thread  # noqa: F401 (autouse)
from tests.train.shard_factory import write_shards


@pytest.fixture(scope="session")
def eval_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval_models")
    build_random_inception(root / INCEPTION_SPEC)
    build_demo_weights(root / "tiny-clip", arch=TINY_ARCH)
    build_pose(root)
    return root


def tiny_eval_config(models, **pose) -> EvalConfig:
    return EvalConfig.model_validate({
        "models_dir": str(models),
        # 64-d Inception features: FID's matrix square root is O(dims³), 2048 would make each FID ~30 s on CPU
        "features": {"clip_arch": TINY_ARCH, "clip_weights": "tiny-clip", "batch_size": 8, "inception_dims": 64},
        "pose": {"pose": PoseConfig(backend="mmpose", arch="tiny", weights=DEMO_WEIGHTS, flip_test=False).model_dump(),
                 **pose},
    })


@pytest.fixture(scope="session")
def eval_shards(tmp_path_factory) -> list[str]:
    """Two shards of four samples, every fifth without persons (passed over by the held-out reader)."""
    return write_shards(tmp_path_factory.mktemp("eval_shards"), num_shards=2, per_shard=4, broken_every=5)


@pytest.fixture(scope="session")
def trained_runs(eval_shards, tmp_path_factory):
    from humanverse.train.common.config import load_config
    from humanverse.train.lsd.config import LSDConfig
    from humanverse.train.lsd.train import train_lsd
    from humanverse.train.refiner.config import RefinerConfig
    from humanverse.train.refiner.train import train_refiner

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("eval_runs")
    train_lsd(load_config(LSDConfig, preset="lsd_tiny", overrides=["loop.max_steps=1", "objective.latent_stats_batches=1"]),
              eval_shards, root / "lsd")
    train_refiner(load_config(RefinerConfig, preset="refiner_tiny", overrides=["loop.max_steps=1"]), eval_shards,
                  root / "refiner")
    return root
