"""The real `train refiner` entry point on contract shards: train, checkpoint, lose a checkpoint, resume."""

import json
import logging
import shutil

import pytest

from humanverse.config_base import ConfigError
from humanverse.train.common import cli as train_cli
from humanverse.train.common.checkpoints import latest_checkpoint, list_checkpoints, read_state
from humanverse.train.common.config import load_config
from humanverse.train.refiner.config import RefinerConfig


def test_trains_checkpoints_and_resumes(shards, tmp_path, caplog, capsys):
    run_dir = tmp_path / "run"
    common = ["--data", *shards, "--output", str(run_dir), "--preset", "refiner_tiny",
              "--set", "loop.checkpointing_steps=2"]
    assert train_cli.main(["refiner", *common, "--max-steps", "3"]) == 0
    assert "done: step 3, 3 steps" in capsys.readouterr().out
    assert [p.name for p in list_checkpoints(run_dir)] == ["checkpoint-2", "checkpoint-3"]
    first_base = (run_dir / "frozen" / "sdxl_base" / "unet" / "diffusion_pytorch_model.safetensors").read_bytes()

    shutil.rmtree(run_dir / "checkpoint-3")  # as if the run died between checkpoints 2 and 3
    caplog.set_level(logging.INFO, logger="humanverse.train")
    assert train_cli.main(["refiner", *common, "--resume", "latest", "--max-steps", "4"]) == 0
    assert f"resumed from {run_dir / 'checkpoint-2'} at step 2" in caplog.text
    assert "done: step 4, 2 steps" in capsys.readouterr().out

    final = latest_checkpoint(run_dir)
    assert final.name == "checkpoint-4" and read_state(final) == {"step": 4, "stage": "refiner"}
    assert (final / "controlnet" / "config.json").is_file() and (final / "controlnet_ema" / "config.json").is_file()
    # the random base was written once and reused, not regenerated, on resume
    assert (run_dir / "frozen" / "sdxl_base" / "unet" / "diffusion_pytorch_model.safetensors").read_bytes() == first_base
    record = json.loads((run_dir / "run.json").read_text())
    assert record["stage"] == "refiner" and record["start_step"] == 2 and record["config"]["loop"]["max_steps"] == 4
    assert record["parameters"]["controlnet_trainable"] > 0
    assert list((run_dir / "logs").rglob("events.out.tfevents.*"))  # tensorboard


def test_real_preset_is_the_paper_setup():
    cfg = load_config(RefinerConfig, preset="refiner")
    assert cfg.model.base == "stable-diffusion-xl-base-1.0" and cfg.data.resolution == 1024
    assert cfg.objective.text_dropout == 0.5 and cfg.objective.condition_dropout == 0.5
    assert cfg.condition_embedder.channels == (16, 32, 96, 256) and cfg.condition_embedder.kernel_size == 4
    assert cfg.condition_embedder.conditions == {"pose": 3, "depth": 1, "normal": 3}
    cfg = load_config(RefinerConfig, preset="refiner", overrides=["objective.condition_dropout=0.3"])
    assert cfg.objective.condition_dropout == 0.3
    with pytest.raises(ConfigError, match=r"objective\.map_dropout: unknown key"):
        load_config(RefinerConfig, preset="refiner_tiny", overrides=["objective.map_dropout=0.3"])
    with pytest.raises(ConfigError, match=r"objective\.text_dropout: .*less than or equal to 1"):
        load_config(RefinerConfig, preset="refiner_tiny", overrides=["objective.text_dropout=1.5"])


def test_cli_registers_under_train(tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    train_cli.add_train_parsers(parser.add_subparsers(dest="model"))
    args = parser.parse_args(["refiner", "--data", "x.tar", "--output", str(tmp_path), "--preset", "refiner_tiny",
                              "--resume", "latest"])
    assert args.handler is train_cli.run and args.method.name == "refiner" and args.resume == "latest"
