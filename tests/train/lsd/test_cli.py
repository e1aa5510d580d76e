"""The real `train lsd` entry point: run on contract shards, get killed after a checkpoint, resume."""

import json

import pytest

from humanverse.config_base import ConfigError
from humanverse.train.common.checkpoints import latest_checkpoint, read_state
from humanverse.train.common.config import load_config
from humanverse.train.lsd.config import LSDConfig
from tests.train.kill_resume import kill_after_first_checkpoint, resume


@pytest.mark.reliability
def test_killed_run_resumes_from_its_last_complete_checkpoint(shards, tmp_path):
    run_dir = tmp_path / "run"
    common = ["--data", *shards, "--output", str(run_dir), "--preset", "lsd_tiny",
              "--set", "loop.checkpointing_steps=2"]
    killed_at = kill_after_first_checkpoint("lsd", [*common, "--max-steps", "1000"], run_dir)
    assert killed_at >= 2 and killed_at % 2 == 0

    target = killed_at + 2
    done = resume("lsd", [*common, "--max-steps", str(target)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"resumed from {latest_checkpoint(run_dir).parent / f'checkpoint-{killed_at}'} at step {killed_at}" \
        in done.stderr
    assert f"done: step {target}, 2 steps" in done.stdout
    final = latest_checkpoint(run_dir)
    assert final.name == f"checkpoint-{target}" and read_state(final)["step"] == target
    assert (final / "unet" / "config.json").is_file() and (final / "unet_ema" / "config.json").is_file()
    assert "latent_stats" in read_state(final)
    assert not list(run_dir.glob(".checkpoint-*.tmp"))
    record = json.loads((run_dir / "run.json").read_text())
    assert record["start_step"] == killed_at and record["config"]["loop"]["max_steps"] == target
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
