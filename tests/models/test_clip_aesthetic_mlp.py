"""The LAION aesthetic MLP loads a state dict laid out like sac+logos+ava1-l14-linearMSE.pth, as published."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from humanverse.models.clip.aesthetic_mlp import (
    PUBLISHED_FILE,
    AestheticMLP,
    build_demo_weights,
    load_aesthetic_mlp,
)

PUBLISHED_SHAPES = {
    "layers.0.weight": (1024, 768),
    "layers.0.bias": (1024,),
    "layers.2.weight": (128, 1024),
    "layers.2.bias": (128,),
    "layers.4.weight": (64, 128),
    "layers.4.bias": (64,),
    "layers.6.weight": (16, 64),
    "layers.6.bias": (16,),
    "layers.7.weight": (1, 16),
    "layers.7.bias": (1,),
}


def test_module_has_the_published_keys_and_shapes():
    state = AestheticMLP().state_dict()
    assert {k: tuple(v.shape) for k, v in state.items()} == PUBLISHED_SHAPES


def test_random_state_dict_saved_with_torch_save_loads_and_scores(tmp_path):
    gen = torch.Generator().manual_seed(1)
    state = {k: torch.randn(shape, generator=gen) * 0.05 for k, shape in PUBLISHED_SHAPES.items()}
    path = tmp_path / PUBLISHED_FILE
    torch.save(state, path)

    model = load_aesthetic_mlp(path)
    emb = torch.nn.functional.normalize(torch.randn(5, 768, generator=gen), dim=-1)
    with torch.no_grad():
        scores = model(emb)

    assert scores.shape == (5,)
    assert torch.isfinite(scores).all()
    # The published predictor is purely linear (no activations), evaluated without dropout.
    expected = emb
    for i in (0, 2, 4, 6, 7):
        expected = expected @ state[f"layers.{i}.weight"].T + state[f"layers.{i}.bias"]
    torch.testing.assert_close(scores, expected.squeeze(-1), rtol=1e-5, atol=1e-5)
    assert not model.training


def test_missing_or_misshapen_keys_are_refused(tmp_path):
    state = AestheticMLP().state_dict()
    del state["layers.7.bias"]
    torch.save(state, tmp_path / "short.pth")
    with pytest.raises(RuntimeError, match="layers.7.bias"):
        load_aesthetic_mlp(tmp_path / "short.pth")

    torch.save({"weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match="improved-aesthetic-predictor"):
        load_aesthetic_mlp(tmp_path / "other.pth")


def test_pickled_objects_are_not_executed_on_load(tmp_path):
    torch.save(AestheticMLP(), tmp_path / "whole_module.pth")  # a pickled module, not a state dict
    with pytest.raises(Exception, match="(?i)weights.only|unsupported global"):
        load_aesthetic_mlp(tmp_path / "whole_module.pth")


def test_demo_weights_use_the_published_name_and_centre_near_the_laion_mean(tmp_path):
    path = build_demo_weights(tmp_path)
    assert path.name == "sac+logos+ava1-l14-linearMSE.pth"
    model = load_aesthetic_mlp(path)
    emb = torch.nn.functional.normalize(torch.randn(8, 768), dim=-1)
    with torch.no_grad():
        scores = model(emb)
    assert torch.all((scores > 4.0) & (scores < 6.0))


def test_the_real_published_file_matches_the_authors_mlp_within_1e_5():
    """Kit weights/: the real .pth, loaded strictly with weights_only, against the repo's own MLP class."""
    from humanverse.models.weights_digest import sha256_file
    from tests.support.realdata import kit_folder

    kit = kit_folder("weights")
    path = kit / "sac+logos+ava1-l14-linearMSE.pth"
    assert sha256_file(path) == "21dd590f3ccdc646f0d53120778b296013b096a035a2718c9cb0d511bff0f1e0"
    model = load_aesthetic_mlp(path)
    with np.load(kit / "aesthetic_reference_predictions.npz", allow_pickle=False) as ref:
        for subset in ("fp32", "fp16"):
            with torch.no_grad():
                ours = model(torch.from_numpy(ref[f"x_{subset}"]).float()).numpy()
            assert np.abs(ours - ref[f"ref_score_{subset}"]).max() <= 1e-5
