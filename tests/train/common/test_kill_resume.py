"""Every training method's real CLI, SIGKILLed after its first checkpoint, resumes from its last complete one.

One test per method (reliability): each costs a process start and a tiny model build; the in-process resume
tests live beside each method (lsd/test_cli.py, hand/test_train_cli.py, refiner/test_cli.py).
"""

import json

import pytest

from humanverse.train.common.checkpoints import latest_checkpoint, read_state
from tests.train.kill_resume import kill_after_first_checkpoint, resume

METHODS = {"lsd": ("lsd_tiny", "unet"), "hand": ("hand_tiny", "unet"), "hand-body": ("hand_body_tiny", "controlnet")}


@pytest.mark.reliability
# lsd in the default suite; hand and hand-body (~17-20 s each, the same loop and checkpoint code) are slow-marked
# to keep it within its 5 minutes
@pytest.mark.parametrize("method", [m if m == "lsd" else pytest.param(m, marks=pytest.mark.slow) for m in METHODS])
def test_a_killed_run_resumes_from_its_last_complete_checkpoint(shards, hand_shards, tmp_path, method):
    preset, model = METHODS[method]
    run_dir = tmp_path / method
    data = shards if method == "lsd" else hand_shards
    common = ["--data", *data, "--output", str(run_dir), "--preset", preset, "--set", "loop.checkpointing_steps=2"]
    killed_at = kill_after_first_checkpoint(method, [*common, "--max-steps", "1000"], run_dir)
    assert killed_at >= 2 and killed_at % 2 == 0, method

    target = killed_at + 2
    done = resume(method, [*common, "--max-steps", str(target)])
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"resumed from {run_dir / f'checkpoint-{killed_at}'} at step {killed_at}" in done.stderr, method
    assert f"done: step {target}, 2 steps" in done.stdout, method
    final = latest_checkpoint(run_dir)
    assert final.name == f"checkpoint-{target}" and read_state(final)["step"] == target
    assert (final / model / "config.json").is_file() and (final / f"{model}_ema" / "config.json").is_file()
    assert not list(run_dir.glob(".checkpoint-*.tmp"))
    record = json.loads((run_dir / "run.json").read_text())
    assert record["start_step"] == killed_at and record["config"]["loop"]["max_steps"] == target
    assert list((run_dir / "logs").rglob("events.out.tfevents.*"))  # tensorboard
