"""Lightning training checkpoints in both layouts (PL <= 1.4: callbacks keyed by class, as Omnidata's PL 1.1.8
writes them; PL >= 1.5: string keys), with Namespace hparams, optimizer and scheduler state: imported to the bare
state dict, and read by the Omnidata loader, without running anything from the file."""

from __future__ import annotations

import argparse
import sys
import types

import pytest
import torch

from humanverse.models.dense import omnidata
from humanverse.models.dense.dpt_hybrid import DPTHybrid
from humanverse.models.import_model import import_model


@pytest.fixture()
def fake_pl(monkeypatch):
    """A module named like PL's so the callback class pickles under its real global name."""
    mod = types.ModuleType("pytorch_lightning.callbacks.model_checkpoint")

    class ModelCheckpoint:
        def __setstate__(self, state):  # would run on a full unpickle
            raise AssertionError("a class from the checkpoint was executed")

    ModelCheckpoint.__module__ = mod.__name__
    ModelCheckpoint.__qualname__ = "ModelCheckpoint"
    mod.ModelCheckpoint = ModelCheckpoint
    for parent in ("pytorch_lightning", "pytorch_lightning.callbacks"):
        if parent not in sys.modules:
            monkeypatch.setitem(sys.modules, parent, types.ModuleType(parent))
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    return ModelCheckpoint


def _training_checkpoint(model, callback_key, version: str) -> dict:
    params = list(model.parameters())
    opt = torch.optim.Adam(params, lr=1e-4)
    sched = torch.optim.lr_scheduler.StepLR(opt, 10)
    return {
        "epoch": 3, "global_step": 1200, "pytorch-lightning_version": version,
        "callbacks": {callback_key: {"monitor": "val_loss", "best_model_score": torch.tensor(0.12),
                                     "best_model_path": "/ckpt/epoch=3.ckpt"}},
        "optimizer_states": [{"state": {0: {"exp_avg": torch.zeros(3)}}, "param_groups": opt.state_dict()["param_groups"]}],
        "lr_schedulers": [sched.state_dict()],
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "hparams_name": "hparams",
        "hyper_parameters": {"hparams": argparse.Namespace(lr=1e-4, task="depth", image_size=384)},
    }


@pytest.mark.parametrize("layout", ["pl_1_1_8_class_keys", "pl_1_5_string_keys"])
def test_both_lightning_layouts_import_and_load(tmp_path, fake_pl, layout):
    torch.manual_seed(0)
    model = DPTHybrid("tiny", out_channels=1).eval()
    key = fake_pl if layout.startswith("pl_1_1") else "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}"
    ckpt = _training_checkpoint(model, key, "1.1.8" if layout.startswith("pl_1_1") else "1.9.5")
    path = tmp_path / omnidata.DEPTH_FILE
    torch.save(ckpt, path)

    record = import_model("omnidata-depth-v2", path, tmp_path / "models")
    assert record["output"] == "omnidata_dpt_depth_v2.safetensors"
    assert "'model.' prefix removed" in record["converted"] and "optimizer_states" in record["converted"]
    for loaded in (omnidata.load_omnidata(record["path"], "depth", arch="tiny"),   # the imported file
                   omnidata.load_omnidata(path, "depth", arch="tiny")):            # the .ckpt placed by hand
        for k, v in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[k], v), k


def test_a_file_that_is_not_a_checkpoint_names_models_import(tmp_path):
    (tmp_path / "x.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="models import omnidata-depth-v2"):
        omnidata.load_omnidata(tmp_path / "x.ckpt", "depth", arch="tiny")
