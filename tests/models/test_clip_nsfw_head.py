"""LAION's CLIP NSFW detector: the head with AutoKeras' categorical lookup, in its imported safetensors form."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from humanverse.models.clip.nsfw_head import (PUBLISHED_FILE, NSFWHead, build_demo_weights, format_micro,
                                              load_nsfw_head, micro_of)


def _unit(n: int, seed: int = 3) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, 768)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_format_micro_rounds_exactly_as_c_percent_f():
    values = np.array([0.125488, -0.0626831, 5e-7, 1.5e-6, -0.0, np.nan, 0.1234565, -3.5], dtype=np.float64)
    expected = [micro_of(("%f" % v).encode()) if np.isfinite(v) else np.iinfo(np.int64).min for v in values]
    assert format_micro(values).tolist() == expected
    assert format_micro(np.array([5e-7, 1.5e-6])).tolist() == [0, 2]  # "%f": 0.000000 and 0.000002


def test_lookup_index_is_position_plus_one_and_zero_when_absent():
    head = NSFWHead(columns=[2], vocab_sizes=[3], input_size=4)
    head.lookup.vocab_0.copy_(torch.tensor([125488, -62683, 375000]))
    x = torch.tensor([[0.0, 0.0, 0.125488, 0.0], [0.0, 0.0, -0.062683, 0.0], [0.0, 0.0, 0.123456789, 0.5]])
    encoded = head.lookup(x)
    assert encoded[:, 2].tolist() == [1.0, 2.0, 0.0]
    assert encoded[2, 3].item() == 0.5  # other columns pass through


def test_demo_weights_load_strictly_and_are_mostly_safe(tmp_path):
    path = build_demo_weights(tmp_path)
    assert path.name == PUBLISHED_FILE == "clip_autokeras_binary_nsfw.safetensors"
    model = load_nsfw_head(path)
    with torch.no_grad():
        p = model(torch.from_numpy(_unit(16)))
    assert p.shape == (16,) and float(p.max()) < 0.5 and float(p.min()) > 0


def test_a_pth_or_a_head_without_its_lookup_is_refused_naming_models_import(tmp_path):
    torch.save({"linear_1.weight": torch.zeros(64, 768)}, tmp_path / "clip_autokeras_binary_nsfw.pth")
    with pytest.raises(ValueError, match="models import laion-clip-nsfw"):
        load_nsfw_head(tmp_path / "clip_autokeras_binary_nsfw.pth")
    state = {k: v for k, v in NSFWHead().state_dict().items() if not k.startswith("lookup.")}
    save_file(state, str(tmp_path / "nolookup.safetensors"))
    with pytest.raises(ValueError, match="models import laion-clip-nsfw"):
        load_nsfw_head(tmp_path / "nolookup.safetensors")
