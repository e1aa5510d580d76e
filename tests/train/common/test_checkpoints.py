import pytest
import torch
from accelerate import Accelerator

from humanverse.train.common.checkpoints import (
    latest_checkpoint,
    list_checkpoints,
    read_state,
    remove_stale_temporaries,
    resolve_resume,
    save_checkpoint,
)


@pytest.fixture
def accelerator_and_model():
    accelerator = Accelerator(cpu=True)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters())
    model, optimizer = accelerator.prepare(model, optimizer)
    return accelerator, model


def test_total_limit_keeps_the_newest_complete_checkpoints(accelerator_and_model, tmp_path):
    accelerator, _ = accelerator_and_model
    for step in (2, 4, 6):
        save_checkpoint(accelerator, tmp_path, step, {"note": "x"}, total_limit=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["checkpoint-4", "checkpoint-6"]
    assert read_state(latest_checkpoint(tmp_path)) == {"step": 6, "note": "x"}
    assert not list(tmp_path.glob(".checkpoint-*"))


@pytest.mark.reliability
def test_a_crash_during_save_leaves_the_previous_checkpoint_as_latest(accelerator_and_model, tmp_path, monkeypatch):
    accelerator, model = accelerator_and_model
    save_checkpoint(accelerator, tmp_path, 2, {})

    def dies_halfway(output_dir, **kwargs):
        (tmp_path / ".checkpoint-4.tmp").mkdir()
        (tmp_path / ".checkpoint-4.tmp" / "model.safetensors").write_bytes(b"half")
        raise KeyboardInterrupt  # stands in for SIGKILL / preemption mid-write

    monkeypatch.setattr(accelerator, "save_state", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(accelerator, tmp_path, 4, {})
    (tmp_path / "checkpoint-9").mkdir()  # a folder without trainer_state.json is not a checkpoint either
    assert latest_checkpoint(tmp_path).name == "checkpoint-2"
    assert resolve_resume(tmp_path, "latest").name == "checkpoint-2"
    remove_stale_temporaries(tmp_path)
    assert not (tmp_path / ".checkpoint-4.tmp").exists()


def test_resolve_resume(tmp_path):
    assert resolve_resume(tmp_path, "latest") is None  # fresh run: same command starts from scratch
    assert resolve_resume(tmp_path, None) is None
    with pytest.raises(FileNotFoundError):
        resolve_resume(tmp_path, "checkpoint-3")


def test_resaving_a_step_replaces_it_whole(accelerator_and_model, tmp_path):
    accelerator, _ = accelerator_and_model
    save_checkpoint(accelerator, tmp_path, 4, {"note": "first"})
    save_checkpoint(accelerator, tmp_path, 4, {"note": "again"})  # a resumed run that ends where it started
    assert read_state(latest_checkpoint(tmp_path)) == {"step": 4, "note": "again"}
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-4"]


@pytest.mark.reliability
def test_a_checkpoint_set_aside_by_a_killed_resave_comes_back(tmp_path):
    """Where the file system cannot swap two folders, re-saving a step sets the old one aside first; a kill
    right then must not lose it: the next start's clean-up puts it back."""
    aside = tmp_path / ".checkpoint-4.old-1234abcd"
    aside.mkdir()
    (aside / "trainer_state.json").write_text('{"step": 4}')
    assert latest_checkpoint(tmp_path) is None
    remove_stale_temporaries(tmp_path)
    assert latest_checkpoint(tmp_path).name == "checkpoint-4" and not aside.exists()
