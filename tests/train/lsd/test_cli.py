"""The real `train lsd` entry point: run on contract shards, lose a checkpoint, resume."""

import json
import shutil

import pytest

from humanverse.config_base import ConfigError
from humanverse.train.common.checkpoints import latest_checkpoint, read_state
from humanverse.train.common.config import load_config
from humanverse.train.lsd.config import LSDConfig
from humanverse.train.common import cli as train_cli


def test_resumes_from_its_last_complete_checkpoint(shards, tmp_path, caplog, capsys):
    """In process and fast; the real SIGKILL of a running trainer is tests/train/common/test_kill_resume.py
    (reliability), one test per method."""
    run_dir = tmp_path / "run"
    common = ["lsd", "--data", *shards, "--output", str(run_dir), "--preset", "lsd_tiny",
              "--set", "loop.checkpointing_steps=1", "--set", "objective.latent_stats_batches=1"]
    assert train_cli.main([*common, "--max-steps", "2"]) == 0
    shutil.rmtree(run_dir / "checkpoint-2")  # as if the run died between checkpoints 1 and 2
    caplog.set_level("INFO", logger="humanverse.train")
    assert train_cli.main([*common, "--resume", "latest", "--max-steps", "3"]) == 0
    assert f"resumed from {run_dir / 'checkpoint-1'} at step 1" in caplog.text
    captured = capsys.readouterr()
    assert "done: step 3, 2 steps" in captured.out
    assert "train: 2/3 steps" in captured.err and "train: 3/3 steps" in captured.err  # resumed at step 1
    final = latest_checkpoint(run_dir)
    assert final.name == "checkpoint-3" and read_state(final)["step"] == 3
    assert (final / "unet" / "config.json").is_file() and (final / "unet_ema" / "config.json").is_file()
    assert read_state(final)["latent_stats"] == read_state(run_dir / "checkpoint-1")["latent_stats"]
    assert not list(run_dir.glob(".checkpoint-*.tmp"))
    record = json.loads((run_dir / "run.json").read_text())
    assert record["start_step"] == 1 and record["config"]["loop"]["max_steps"] == 3
    assert list((run_dir / "logs").rglob("events.out.tfevents.*"))  # tensorboard


def test_config_errors_are_caught_before_training(tmp_path):
    with pytest.raises(ConfigError, match=r"optim\.learnin_rate: unknown key"):
        load_config(LSDConfig, preset="lsd_tiny", overrides=["optim.learnin_rate=1"])
    with pytest.raises(ConfigError, match=r"loop\.max_steps: Input should be a valid integer"):
        load_config(LSDConfig, preset="lsd_tiny", overrides=["loop.max_steps=many"])
    with pytest.raises(ConfigError, match="lsd_tiny"):
        load_config(LSDConfig, preset="nope")
    cfg = load_config(LSDConfig, preset="lsd", overrides=["loop.max_steps=7", "data.crop_scale=[0.8, 1.0]"])
    assert cfg.loop.max_steps == 7 and cfg.data.crop_scale == (0.8, 1.0)
    assert cfg.model.base == "stable-diffusion-2-base" and cfg.text_encoder.open_clip_model == "ViT-H-14"
    assert cfg.objective.text_dropout == 0.15 and cfg.optim.learning_rate == 1e-5 and cfg.optim.weight_decay == 0.01
