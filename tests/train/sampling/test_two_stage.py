"""Two-stage sampling end to end with tiny trained models: stage 1 then the refiner, or the refiner alone
from ground-truth conditions, through the real `sample` entry point."""

import io
import json

import numpy as np
import pytest
import torch
from PIL import Image

from humanverse.train.sampling import cli as sample_cli
from humanverse.train.sampling.condition_inputs import load_depth, load_keypoints, load_normal
from humanverse.train.common.config import load_config
from humanverse.train.lsd.train import train_lsd
from humanverse.train.refiner.config import RefinerConfig
from humanverse.train.refiner.sample import load_refiner, sample_refiner
from humanverse.train.refiner.train import train_refiner
from tests.train.conftest import tiny_config
from tests.train.shard_factory import make_sample


@pytest.fixture(scope="module")
def trained(shards, tmp_path_factory):
    """A stage-1 and a refiner run, one optimizer step each, on the contract shards."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("two_stage")
    train_lsd(tiny_config("loop.max_steps=1", "objective.latent_stats_batches=1"), shards, root / "lsd")
    train_refiner(load_config(RefinerConfig, preset="refiner_tiny", overrides=["loop.max_steps=1"]), shards,
                  root / "refiner")
    return root


@pytest.fixture(scope="module")
def ground_truth(tmp_path_factory):
    """One curated sample's members as files: keypoints JSON (the shard .json itself), depth and normal PNGs."""
    root = tmp_path_factory.mktemp("ground_truth")
    sample = make_sample(np.random.default_rng(7), "gt", width=80, height=60)
    (root / "gt.json").write_text(sample["json"])
    (root / "gt.depth.png").write_bytes(sample["depth.png"])
    (root / "gt.normal.png").write_bytes(sample["normal.png"])
    return root


def _png(path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


def test_stage1_then_refiner_writes_the_expected_files(trained, ground_truth, tmp_path, capsys):
    out = tmp_path / "out"
    code = sample_cli.main(["--prompt", "a person waving", "--pose", str(ground_truth / "gt.json"),
                            "--lsd", str(trained / "lsd"), "--refiner", str(trained / "refiner"), "--output", str(out),
                            "--steps", "2", "--stage1-steps", "2", "--device", "cpu"])
    assert code == 0
    err = capsys.readouterr().err  # progress of each denoising loop (plain lines: stderr is no terminal here)
    assert "stage 1: 2/2 steps" in err and "refiner: 2/2 steps" in err
    assert _png(out / "image.png").shape == (64, 64, 3)  # the refiner's resolution
    assert _png(out / "stage1" / "rgb.png").shape == (32, 32, 3)  # stage 1's resolution
    assert _png(out / "stage1" / "depth.png").dtype == np.uint16  # the shard's 16-bit depth encoding
    assert _png(out / "stage1" / "normal.png").shape == (32, 32, 3)
    for name in ("pose", "depth", "normal"):
        assert _png(out / "conditions" / f"{name}.png").shape[:2] == (64, 64)
    assert _png(out / "conditions" / "pose.png").max() > 0  # the skeleton was drawn
    record = json.loads((out / "sample.json").read_text())
    assert record["condition_sources"] == {"depth": "stage1", "normal": "stage1", "pose": "user"}
    assert record["stage1"]["resolution"] == 32 and record["refiner"]["resolution"] == 64
    assert not list(out.rglob(".*.tmp"))


def test_refiner_alone_from_ground_truth_conditions(trained, ground_truth, tmp_path):
    out = tmp_path / "gt"
    code = sample_cli.main(["--prompt", "a person", "--pose", str(ground_truth / "gt.json"),
                            "--depth", str(ground_truth / "gt.depth.png"), "--normal", str(ground_truth / "gt.normal.png"),
                            "--refiner", str(trained / "refiner"), "--output", str(out), "--steps", "2"])
    assert code == 0 and not (out / "stage1").exists()  # no stage-1 checkpoint needed
    assert json.loads((out / "sample.json").read_text())["condition_sources"] == {
        "depth": "user", "normal": "user", "pose": "user"}
    given = load_depth(ground_truth / "gt.depth.png", 64)[0, 0].numpy()
    given = (given - given.min()) / (given.max() - given.min())  # the 16-bit encoding min-max normalises
    written = load_depth(out / "conditions" / "depth.png", 64)[0, 0].numpy()
    assert np.abs(given - written).max() < 1e-3  # the refiner got the user's map, not a stage-1 one
    np.testing.assert_allclose(load_normal(out / "conditions" / "normal.png", 64).numpy(),
                               load_normal(ground_truth / "gt.normal.png", 64).numpy(), atol=0.02)


def test_dropping_and_missing_conditions(trained, ground_truth, tmp_path):
    out = tmp_path / "dropped"
    assert sample_cli.main(["--prompt", "a person", "--depth", str(ground_truth / "gt.depth.png"), "--drop", "normal",
                            "--refiner", str(trained / "refiner"), "--output", str(out), "--steps", "1"]) == 0
    sources = json.loads((out / "sample.json").read_text())["condition_sources"]
    assert sources == {"depth": "user", "normal": "dropped", "pose": "none"}
    assert _png(out / "conditions" / "pose.png").max() == 0
    with pytest.raises(ValueError, match="--lsd"):
        sample_cli.main(["--prompt", "a person", "--refiner", str(trained / "refiner"), "--output",
                         str(tmp_path / "x"), "--steps", "1"])


def test_refiner_sampler_is_seeded_and_follows_its_maps(trained, ground_truth):
    model = load_refiner(trained / "refiner")
    with torch.no_grad():  # make the ControlNet's influence visible (one training step barely moves it)
        for module in [model.controlnet.condition_embedding.conv_out, *model.controlnet.controlnet.controlnet_down_blocks]:
            module.weight.normal_(0, 0.2)
    keypoints = load_keypoints(ground_truth / "gt.json")
    maps = {"pose": keypoints.pose_map(64), "depth": load_depth(ground_truth / "gt.depth.png", 64)}

    def run(conditions, seed=0):
        return sample_refiner(model, ["a person"], conditions, num_inference_steps=2, guidance_scale=2.0,
                              generator=torch.Generator().manual_seed(seed))

    image = run(maps)
    assert image.shape == (1, 3, 64, 64) and 0 <= image.min() and image.max() <= 1
    torch.testing.assert_close(run(maps), image)
    assert not torch.allclose(run(maps, seed=1), image)
    assert not torch.allclose(run({"pose": maps["pose"]}), image)  # the depth map matters
    torch.testing.assert_close(run({**maps, "normal": torch.zeros(1, 3, 64, 64)}), image)  # absent == zeros


def test_keypoints_json_is_the_shard_format(ground_truth, tmp_path):
    keypoints = load_keypoints(ground_truth / "gt.json")
    assert (keypoints.width, keypoints.height) == (80, 60) and keypoints.persons[0].shape == (133, 3)
    (tmp_path / "bad.json").write_text(json.dumps({"width": 8, "height": 8, "persons": [[[0, 0, 1]] * 17]}))
    with pytest.raises(ValueError, match="133"):
        load_keypoints(tmp_path / "bad.json")
    eight_bit = io.BytesIO()
    Image.fromarray(np.full((10, 20), 255, np.uint8)).save(eight_bit, format="PNG")
    (tmp_path / "d8.png").write_bytes(eight_bit.getvalue())
    assert load_depth(tmp_path / "d8.png", 16).shape == (1, 1, 16, 16) and load_depth(tmp_path / "d8.png", 16).min() == 1


def test_sample_parser_registers_at_top_level():
    import argparse

    parser = argparse.ArgumentParser()
    sample_cli.add_sample_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["sample", "--prompt", "p", "--pose", "k.json", "--lsd", "a", "--refiner", "b",
                              "--output", "o", "--drop", "depth"])
    assert args.func is sample_cli.run and args.handler is sample_cli.run
    assert (args.keypoints, args.lsd, args.refiner, args.drop) == ("k.json", "a", "b", ["depth"])


def _record_stage1_pose_latents(monkeypatch) -> list[torch.Tensor]:
    from humanverse.train.lsd.model import ExpertBranchUNet

    seen: list[torch.Tensor] = []
    original = ExpertBranchUNet.forward

    def recording(self, latents, pose_latent, *args, **kwargs):
        seen.append(pose_latent.detach().clone())
        return original(self, latents, pose_latent, *args, **kwargs)

    monkeypatch.setattr(ExpertBranchUNet, "forward", recording)
    return seen


def test_no_pose_is_trainings_zero_pose_latent(trained, ground_truth, tmp_path, monkeypatch):
    """Training drops a pose by zeroing its latent; sampling without keypoints must feed exactly that."""
    seen = _record_stage1_pose_latents(monkeypatch)
    out = tmp_path / "nopose"
    assert sample_cli.main(["--prompt", "a person", "--lsd", str(trained / "lsd"), "--refiner", str(trained / "refiner"),
                            "--output", str(out), "--steps", "1", "--stage1-steps", "2"]) == 0
    assert seen and all(p.shape == (2, 4, 16, 16) for p in seen)  # CFG doubles the batch; 32² -> 16² latents
    assert all(torch.count_nonzero(p) == 0 for p in seen)
    seen.clear()
    assert sample_cli.main(["--prompt", "a person", "--pose", str(ground_truth / "gt.json"), "--lsd", str(trained / "lsd"),
                            "--refiner", str(trained / "refiner"), "--output", str(tmp_path / "pose"), "--steps", "1",
                            "--stage1-steps", "1"]) == 0
    assert torch.count_nonzero(seen[0]) > 0  # with a pose, the latent is the VAE's encoding


def test_stage1_maps_reach_the_refiner_as_it_trained(trained, ground_truth, tmp_path, monkeypatch):
    """Depth renormalised per image, the pose drawn with stage 1's own keypoint threshold, rescale recorded."""
    import shutil

    from humanverse.train.refiner import sample as refiner_sample
    from humanverse.train.sampling import condition_inputs

    lsd = tmp_path / "lsd"
    shutil.copytree(trained / "lsd", lsd)
    record = json.loads((lsd / "run.json").read_text())
    record["config"]["data"]["keypoint_score_threshold"] = 0.77
    (lsd / "run.json").write_text(json.dumps(record))

    thresholds, given = [], {}
    original_map = condition_inputs.Keypoints.pose_map
    monkeypatch.setattr(condition_inputs.Keypoints, "pose_map",
                        lambda self, size, score_threshold=0.3: thresholds.append((size, score_threshold))
                        or original_map(self, size, score_threshold))
    original_refine = refiner_sample.sample_refiner
    monkeypatch.setattr(refiner_sample, "sample_refiner",
                        lambda model, prompts, conditions, *a, **k: given.update(conditions)
                        or original_refine(model, prompts, conditions, *a, **k))
    out = tmp_path / "out"
    assert sample_cli.main(["--prompt", "a person", "--pose", str(ground_truth / "gt.json"), "--lsd", str(lsd),
                            "--refiner", str(trained / "refiner"), "--output", str(out), "--steps", "1",
                            "--stage1-steps", "1", "--guidance-rescale", "0.25"]) == 0
    assert (32, 0.77) in thresholds  # stage 1's map uses its run's threshold, not the default 0.3
    depth = given["depth"]
    assert float(depth.min()) == pytest.approx(0, abs=1e-6) and float(depth.max()) == pytest.approx(1, abs=1e-6)
    stage1 = json.loads((out / "sample.json").read_text())["stage1"]
    assert stage1["guidance_rescale"] == 0.25 and stage1["keypoint_score_threshold"] == 0.77
