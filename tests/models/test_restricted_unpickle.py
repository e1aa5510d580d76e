"""The restricted unpickler rebuilds tensors and containers and nothing else: no callable from the file runs."""

from __future__ import annotations

import os

import torch

from humanverse.models.restricted_unpickle import InertGlobal, load_zip_pickle


class _RunsCode:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_reduce_that_would_run_a_command_becomes_an_inert_placeholder(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"w": torch.arange(6.0).reshape(2, 3), "evil": _RunsCode(str(marker))}, tmp_path / "ck.pt")
    obj, placeholders = load_zip_pickle(tmp_path / "ck.pt")
    assert not marker.exists()
    assert isinstance(obj["evil"], InertGlobal) and obj["evil"].args == (f"touch {marker}",)
    assert torch.equal(obj["w"], torch.arange(6.0).reshape(2, 3))
    assert any(p.endswith(".system") for p in placeholders)


def test_views_share_storage_and_keep_offsets_and_strides(tmp_path):
    base = torch.arange(20, dtype=torch.float16).reshape(4, 5)
    torch.save({"t": base.t(), "row": base[2], "b": torch.tensor([True, False]), "i": torch.tensor([-3])},
               tmp_path / "v.pt")
    obj, _ = load_zip_pickle(tmp_path / "v.pt")
    assert torch.equal(obj["t"], base.t()) and torch.equal(obj["row"], base[2])
    assert obj["b"].tolist() == [True, False] and obj["i"].tolist() == [-3]
