"""OpenAI's CLIP TorchScript archive (here: a tiny open_clip CLIP traced and saved the way OpenAI's ViT-L-14.pt
is) imports to the state dict TorchScript itself would give, without executing the archive, and loads."""

from __future__ import annotations

import warnings

import numpy as np
import torch

from humanverse.models.clip.clip_embedder import TINY_ARCH, ClipImageEmbedder, _build_clip
from humanverse.models.import_model import import_model


def test_torchscript_archive_imports_to_its_state_dict_and_loads_into_open_clip(tmp_path):
    torch.manual_seed(0)
    model = _build_clip(TINY_ARCH).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, (torch.randn(1, 3, 224, 224), torch.randint(0, 100, (1, 77))),
                                 strict=False, check_trace=False)
        traced.save(str(tmp_path / "ViT-L-14.pt"))
        expected = torch.jit.load(str(tmp_path / "ViT-L-14.pt")).state_dict()

    record = import_model("clip-vit-l-14-openai", tmp_path / "ViT-L-14.pt", tmp_path / "models")
    from safetensors.torch import load_file

    state = load_file(record["path"])
    assert set(state) == set(expected) - {"attn_mask"}  # open_clip rebuilds the causal mask itself
    assert all(torch.equal(state[k], expected[k]) for k in state)
    assert any(g.startswith("__torch__.") for g in record["inert_globals"])

    image = (np.random.default_rng(0).random((64, 48, 3)) * 255).astype(np.uint8)
    ours = ClipImageEmbedder.load(TINY_ARCH, record["path"]).embed([image])
    ref = ClipImageEmbedder(model.visual, "cpu", torch.float32, TINY_ARCH).embed([image])
    assert np.abs(ours - ref).max() <= 1e-6


def test_a_wrong_clip_file_names_models_import(tmp_path):
    import pytest

    (tmp_path / "open_clip_model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(RuntimeError, match="models import clip-vit-l-14-openai"):
        ClipImageEmbedder.load(TINY_ARCH, tmp_path / "open_clip_model.safetensors")
