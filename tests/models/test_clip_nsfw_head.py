"""LAION's CLIP NSFW detector: the published PyTorch state dict, and the converter from the Keras weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from humanverse.models.clip.nsfw_head import PUBLISHED_FILE, NSFWHead, build_demo_weights, load_nsfw_head
from humanverse.models.clip.nsfw_keras_convert import convert, keras_weights_to_state_dict, main

PUBLISHED_SHAPES = {
    "norm.mean": (768,),
    "norm.variance": (768,),
    "linear_1.weight": (64, 768),
    "linear_1.bias": (64,),
    "linear_2.weight": (512, 64),
    "linear_2.bias": (512,),
    "linear_3.weight": (256, 512),
    "linear_3.bias": (256,),
    "linear_4.weight": (1, 256),
    "linear_4.bias": (1,),
}


def _keras_like_weights(seed: int = 0) -> list[np.ndarray]:
    """A get_weights() list in the layout of the LAION Keras model: 5 leading arrays, then the normaliser."""
    rng = np.random.default_rng(seed)
    f = np.float32
    leading = [rng.normal(size=s).astype(f) for s in [(3,), (3,), (), (2, 2), (1,)]]
    norm = [rng.normal(0, 0.01, 768).astype(f), rng.uniform(0.5, 2.0, 768).astype(f) / 768, np.array(1000, f)]
    dense = []
    for fan_in, fan_out in [(768, 64), (64, 512), (512, 256), (256, 1)]:
        dense += [rng.normal(0, fan_in**-0.5, (fan_in, fan_out)).astype(f), rng.normal(0, 0.1, fan_out).astype(f)]
    return leading + norm + dense


def _keras_reference(weights: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The Keras model's forward pass, written out in numpy (Dense: x @ kernel + bias)."""
    h = (x - weights[5]) / np.sqrt(weights[6])
    for layer in range(4):
        h = h @ weights[8 + 2 * layer] + weights[9 + 2 * layer]
        h = np.maximum(h, 0) if layer < 3 else 1 / (1 + np.exp(-h))
    return h[:, 0]


def _unit(n: int, seed: int = 3) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, 768)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_module_has_the_published_keys_and_shapes():
    assert {k: tuple(v.shape) for k, v in NSFWHead().state_dict().items()} == PUBLISHED_SHAPES


def test_random_state_dict_saved_with_torch_save_loads_and_gives_probabilities(tmp_path):
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(s, generator=gen) * 0.1 for k, s in PUBLISHED_SHAPES.items()}
    state["norm.variance"] = state["norm.variance"].abs() + 0.5
    torch.save(state, tmp_path / PUBLISHED_FILE)

    model = load_nsfw_head(tmp_path / PUBLISHED_FILE)
    with torch.no_grad():
        p = model(torch.from_numpy(_unit(6)))

    assert p.shape == (6,)
    assert torch.all((p > 0) & (p < 1))


def test_a_non_detector_file_is_refused_with_a_pointer_to_the_converter(tmp_path):
    torch.save({"layers.0.weight": torch.zeros(2, 2)}, tmp_path / "x.pth")
    with pytest.raises(ValueError, match="nsfw_keras_convert"):
        load_nsfw_head(tmp_path / "x.pth")


def test_converted_keras_weights_score_like_the_keras_model(tmp_path):
    weights = _keras_like_weights()
    np.savez(tmp_path / "export.npz", *weights)

    path = convert(tmp_path / "export.npz", tmp_path / "out")
    assert path.name == PUBLISHED_FILE

    x = _unit(7)
    with torch.no_grad():
        ours = load_nsfw_head(path)(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours, _keras_reference(weights, x), rtol=1e-5, atol=1e-6)


def test_converter_cli_writes_the_file(tmp_path, capsys):
    np.savez(tmp_path / "export.npz", *_keras_like_weights(1))
    main([str(tmp_path / "export.npz"), str(tmp_path / "cli")])
    assert (tmp_path / "cli" / PUBLISHED_FILE).exists()
    assert PUBLISHED_FILE in capsys.readouterr().out


def test_a_different_keras_layout_fails_on_shapes_instead_of_scoring_wrongly():
    weights = _keras_like_weights()
    with pytest.raises(ValueError, match="linear_1.weight.*shape"):
        keras_weights_to_state_dict(weights, first_dense_index=9)
    with pytest.raises(ValueError, match="outside"):
        keras_weights_to_state_dict(weights[:10])


def test_demo_weights_are_loadable_and_mostly_safe(tmp_path):
    model = load_nsfw_head(build_demo_weights(tmp_path))
    with torch.no_grad():
        p = model(torch.from_numpy(_unit(16)))
    assert float(p.max()) < 0.5
