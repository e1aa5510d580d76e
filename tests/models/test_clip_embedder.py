"""The CLIP image tower: published open_clip weights layout, strict loading, batched normalised embeddings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from humanverse.models.clip.clip_embedder import (
    PUBLISHED_FILE,
    TINY_ARCH,
    VIT_L14_OPENAI,
    ClipImageEmbedder,
    build_demo_weights,
    model_config,
)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory):
    return build_demo_weights(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="module")
def embedder(tiny_weights):
    return ClipImageEmbedder.load(TINY_ARCH, tiny_weights)


def _images(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = [(240, 320), (500, 260), (224, 224), (333, 333), (210, 400), (640, 480), (300, 250)]
    return [rng.integers(0, 256, (*sizes[i % len(sizes)], 3), dtype=np.uint8) for i in range(n)]


def test_default_architecture_is_openai_vit_l14_with_quickgelu():
    cfg = model_config(VIT_L14_OPENAI)
    assert cfg["quick_gelu"] is True
    assert cfg["embed_dim"] == 768
    assert cfg["vision_cfg"]["patch_size"] == 14 and cfg["vision_cfg"]["layers"] == 24


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown CLIP architecture"):
        model_config("ViT-Q-99")


def test_demo_weights_are_an_open_clip_state_dict_in_safetensors(tiny_weights):
    assert tiny_weights.name == PUBLISHED_FILE
    state = load_file(str(tiny_weights))
    assert "visual.proj" in state and "token_embedding.weight" in state
    assert state["visual.proj"].shape[1] == 768


def test_embeddings_are_unit_vectors_of_the_heads_width(embedder):
    emb = embedder.embed(_images(5))
    assert emb.shape == (5, 768) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    assert embedder.dim == 768


def test_different_images_give_different_embeddings_and_the_same_image_the_same(embedder):
    a, b = _images(2, seed=5)
    emb = embedder.embed([a, b, a])
    np.testing.assert_allclose(emb[0], emb[2], atol=1e-6)
    assert not np.allclose(emb[0], emb[1], atol=1e-4)


def test_batched_equals_one_by_one(embedder):
    images = _images(7, seed=2)
    batched = embedder.embed(images)
    single = np.concatenate([embedder.embed([im]) for im in images])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_the_loaded_weights_are_the_ones_in_the_file(tiny_weights, tmp_path):
    other = build_demo_weights(tmp_path, seed=1)
    e0 = ClipImageEmbedder.load(TINY_ARCH, tiny_weights)
    e1 = ClipImageEmbedder.load(TINY_ARCH, other)
    im = _images(1, seed=9)
    assert not np.allclose(e0.embed(im), e1.embed(im), atol=1e-4)
    torch.testing.assert_close(e0.visual.proj.detach(), load_file(str(tiny_weights))["visual.proj"])


def test_a_checkpoint_missing_keys_is_refused(tiny_weights, tmp_path):
    state = load_file(str(tiny_weights))
    del state["visual.proj"]
    save_file(state, str(tmp_path / "broken.safetensors"))
    with pytest.raises(RuntimeError, match="visual.proj"):
        ClipImageEmbedder.load(TINY_ARCH, tmp_path / "broken.safetensors")


def test_non_rgb_input_is_refused(embedder):
    with pytest.raises(ValueError, match="RGB uint8"):
        embedder.embed([np.zeros((32, 32), dtype=np.uint8)])
    assert embedder.embed([]).shape == (0, 768)


def test_half_precision_tower_still_returns_fp32_unit_vectors_close_to_fp32(tiny_weights, embedder):
    """The GPU path casts the tower to bf16/fp16; bf16 also runs on CPU, so the casting is checked here."""
    half = ClipImageEmbedder.load(TINY_ARCH, tiny_weights, dtype=torch.bfloat16)
    assert next(half.visual.parameters()).dtype == torch.bfloat16
    images = _images(3, seed=4)
    low, full = half.embed(images), embedder.embed(images)
    assert low.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(low, axis=1), 1.0, atol=1e-5)
    assert np.all(np.sum(low * full, axis=1) > 0.99)
