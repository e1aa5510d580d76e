import numpy as np
import torch

from humanverse.train.lsd.sample import load_stage1, sample_lsd
from humanverse.train.lsd.train import train_lsd
from humanverse.train.common.pose_render import render_pose
from tests.train.conftest import tiny_config
from tests.train.shard_factory import random_keypoints


def test_stage1_sampler_from_a_trained_run(shards, tmp_path):
    cfg = tiny_config("loop.max_steps=1", "objective.latent_stats_batches=1")
    result = train_lsd(cfg, shards, tmp_path / "run")
    assert result.step == 1
    model = load_stage1(tmp_path / "run")  # latest checkpoint, EMA weights
    keypoints = random_keypoints(np.random.default_rng(0), 32, 32)
    pose = torch.from_numpy(render_pose([keypoints], 32, 32)).permute(2, 0, 1).float()[None] / 255

    def run(seed):
        return sample_lsd(model, ["a person waving"], pose, num_inference_steps=2, guidance_scale=3.0,
                          generator=torch.Generator().manual_seed(seed))

    out = run(0)
    assert out.rgb.shape == (1, 3, 32, 32) and out.depth.shape == (1, 1, 32, 32) and out.normal.shape == (1, 3, 32, 32)
    assert 0 <= out.rgb.min() and out.rgb.max() <= 1 and 0 <= out.depth.min() and out.depth.max() <= 1
    torch.testing.assert_close(out.normal.norm(dim=1), torch.ones(1, 32, 32), atol=1e-3, rtol=0)
    assert set(out.latents) == {"rgb", "depth", "normal"}
    torch.testing.assert_close(run(0).rgb, out.rgb)  # seeded
    assert not torch.allclose(run(1).rgb, out.rgb)
