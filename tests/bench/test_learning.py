"""bench/learning.py's LSD check, short, with loose bounds: `train_lsd` on the tiny preset must learn the kit's
showable photos well enough that the validation loss beats the constant predictor and DDIM samples drawn with
the training poses land nearest their own images. A loss fed the wrong target, conditioning that never reaches
the UNet, or a sampler that disagrees with the objective fails this (bench/LEARNING.md has the full figures)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

from tests.support.realdata import PEOPLE
from tests.support.torch_threads import _one_torch_thread  # noqa: F401 (autouse)

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import learning  # noqa: E402

pytestmark = pytest.mark.skipif(not all((PEOPLE / name).is_file() for name in learning.SHOWABLE_PHOTOS),
                                reason="the real-data kit's people photos are absent")


def test_tiny_lsd_learns_the_training_photos(tmp_path):
    pytest.importorskip("mediapipe")
    photos = learning.annotate_photos(PEOPLE, mirror=False)
    shards = learning.write_shard(photos, tmp_path / "shards")
    cfg = learning.bench_config(120, 0, 120, len(photos))
    batch = learning.fixed_batch(shards, cfg, len(photos))
    learning.pretrain_vae(cfg, batch, tmp_path / "vae", steps=80, seed=0)
    run = learning.train_run(shards, batch, tmp_path / "run", steps=120, seed=0, vae_dir=tmp_path / "vae")

    ratios = learning.loss_ratios(run["val"])
    assert all(ratio < 0.8 for ratio in ratios.values()), ratios  # full benchmark target: ≤ 0.5
    mem = learning.memorisation(tmp_path / "run", batch, steps=10)
    figures = {k: v for k, v in mem.items() if not k.startswith("_")}
    assert mem["nearest_own"] >= 0.75, figures
    assert mem["psnr_gain_db"] > 1.0, figures
    assert torch.isfinite(mem["_samples"].rgb).all()
