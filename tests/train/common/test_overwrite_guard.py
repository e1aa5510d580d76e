"""`train` into a run directory that holds checkpoints, without --resume, is refused (issue 31 item 2):
it used to restart at step 1 and replace checkpoint-5 ... checkpoint-40 one by one."""

import json

import pytest

from humanverse import cli
from humanverse.train.common.checkpoints import STATE_FILE
from humanverse.train.common.cli import METHODS
from humanverse.train.common.overwrite_guard import RunDirInUse, check_run_dir

PRESETS = {"lsd": "lsd_tiny", "refiner": "refiner_tiny", "hand": "hand_tiny", "hand-body": "hand_body_tiny"}


def earlier_run(run_dir, steps=(5, 10, 40)):
    for step in steps:
        folder = run_dir / f"checkpoint-{step}"
        folder.mkdir(parents=True)
        (folder / STATE_FILE).write_text(json.dumps({"step": step}))


@pytest.mark.parametrize("method", [m.name for m in METHODS])
def test_every_trainer_refuses_a_run_dir_with_checkpoints(method, tmp_path, capsys):
    assert set(PRESETS) == {m.name for m in METHODS}
    run_dir = tmp_path / "run"
    earlier_run(run_dir)
    before = sorted(p.name for p in run_dir.iterdir())
    code = cli.main(["train", method, "--data", str(tmp_path / "none-*.tar"), "--output", str(run_dir),
                     "--preset", PRESETS[method], "--max-steps", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "3 checkpoint(s)" in err and "--resume latest" in err and "--overwrite" in err
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_overwrite_removes_the_earlier_checkpoints_and_resume_passes(tmp_path):
    run_dir = tmp_path / "run"
    earlier_run(run_dir)
    assert check_run_dir(run_dir, "latest", overwrite=False) == []  # --resume: the trainer resumes
    assert check_run_dir(tmp_path / "fresh", None, overwrite=False) == []  # a fresh run dir
    with pytest.raises(RunDirInUse):
        check_run_dir(run_dir, None, overwrite=False)
    removed = check_run_dir(run_dir, None, overwrite=True)
    assert [p.name for p in removed] == ["checkpoint-5", "checkpoint-10", "checkpoint-40"]
    assert not list(run_dir.glob("checkpoint-*"))
