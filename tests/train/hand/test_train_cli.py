"""`train hand` and `train hand-body` on tiny contract shards: train, checkpoint, lose a checkpoint, resume
(in process, fast); the real kill of a running process is tests/train/common/test_kill_resume.py (slow)."""

import json
import shutil

import pytest

from humanverse.config_base import ConfigError
from humanverse.train.common import cli as train_cli
from humanverse.train.common.checkpoints import latest_checkpoint, list_checkpoints, read_state
from humanverse.train.common.config import load_config
from humanverse.train.hand.config import HandConfig
from humanverse.train.hand_body.config import HandBodyConfig
from humanverse.train.lsd.model import ExpertBranchUNet

PRESETS = {"hand": "hand_tiny", "hand-body": "hand_body_tiny"}
MODELS = {"hand": "unet", "hand-body": "controlnet"}


@pytest.mark.parametrize("method", ["hand", "hand-body"])
def test_resumes_from_the_last_complete_checkpoint(method, trained_hand_runs, hand_shards, tmp_path, caplog, capsys):
    run_dir = tmp_path / method
    shutil.copytree(trained_hand_runs / method, run_dir)
    assert [p.name for p in list_checkpoints(run_dir)] == ["checkpoint-1", "checkpoint-2"]
    shutil.rmtree(run_dir / "checkpoint-2")  # as if the run died between checkpoints 1 and 2
    caplog.set_level("INFO", logger="humanverse.train")
    assert train_cli.main([method, "--data", *hand_shards, "--output", str(run_dir), "--preset", PRESETS[method],
                           "--resume", "latest", "--max-steps", "3"]) == 0
    assert f"resumed from {run_dir / 'checkpoint-1'} at step 1" in caplog.text
    assert "done: step 3, 2 steps" in capsys.readouterr().out
    final = latest_checkpoint(run_dir)
    assert final.name == "checkpoint-3" and read_state(final)["stage"] == method
    name = MODELS[method]
    assert (final / name / "config.json").is_file() and (final / f"{name}_ema" / "config.json").is_file()
    record = json.loads((run_dir / "run.json").read_text())
    assert record["stage"] == method and record["start_step"] == 1


def test_hand_generator_is_the_expert_branch_model_with_rgb_and_mask(trained_hand_runs):
    checkpoint = latest_checkpoint(trained_hand_runs / "hand")
    unet = ExpertBranchUNet.from_pretrained(checkpoint / "unet_ema", local_files_only=True)
    assert list(unet.branches) == ["rgb", "mask"]
    assert set(read_state(checkpoint)["latent_stats"]["mean"]) == {"rgb", "mask"}


def test_body_model_is_a_skeleton_controlnet_on_a_9_channel_inpainting_unet(trained_hand_runs):
    from humanverse.train.hand_body.outpaint import load_body_model

    body = load_body_model(trained_hand_runs / "hand-body")
    assert body.base.unet.config.in_channels == 9 and body.controlnet.controlnet.config.in_channels == 9
    assert body.controlnet.condition_names == ["pose"]


def test_presets_and_config_errors():
    hand = load_config(HandConfig, preset="hand")
    assert hand.model.base == "stable-diffusion-2-base" and hand.data.resolution == 256
    assert hand.objective.modality_weights == {"rgb": 1.0, "mask": 1.0}
    body = load_config(HandBodyConfig, preset="hand_body")
    assert body.model.base == "stable-diffusion-2-inpainting" and body.data.resolution == 512
    with pytest.raises(ConfigError, match="modality_weights needs exactly rgb, mask"):
        load_config(HandConfig, preset="hand_tiny", overrides=["objective.modality_weights={rgb: 1}"])
    with pytest.raises(ConfigError, match="in_channels must be 9"):
        load_config(HandBodyConfig, preset="hand_body_tiny", overrides=["model.random_base.unet.in_channels=4"])
    with pytest.raises(ConfigError, match=r"data\.min_hand_sid: unknown key"):
        load_config(HandBodyConfig, preset="hand_body_tiny", overrides=["data.min_hand_sid=3"])


def test_real_preset_loads_its_base_from_a_local_folder_in_the_published_layout(tmp_path):
    from humanverse.train.hand_body.components import (
        base_folder,
        build_controlnet,
        load_inpaint_base,
        write_random_inpaint_base,
    )

    tiny = load_config(HandBodyConfig, preset="hand_body_tiny")
    folder = write_random_inpaint_base(tiny.model.random_base, tmp_path / "stable-diffusion-2-inpainting")
    assert {p.name for p in folder.iterdir()} == {"unet", "vae", "text_encoder", "tokenizer"}
    cfg = load_config(HandBodyConfig, preset="hand_body", overrides=[
        f"model.base={folder}", "condition_embedder.channels=[8, 8, 8, 16]"])
    base = load_inpaint_base(base_folder(cfg, tmp_path / "run", create=False))
    controlnet = build_controlnet(cfg, base)
    assert controlnet.controlnet.conv_in.in_channels == 9
    assert not (tmp_path / "run").exists()  # a configured base is read in place, nothing written
