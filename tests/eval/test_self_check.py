"""The self-check scores real images as if generated; every degradation must score worse. These tests assert
the directions, so the harness can fail: a metric that ignored its inputs, or paired the wrong caption,
image or pose, would not move the right way."""

import json

import numpy as np
import pytest
import torch

from humanverse.eval.run import EvalRequest, run_eval
from tests.eval.conftest import tiny_eval_config

SMALL_CLIP = "humanverse-eval-test-clip"


def _train_clip_on_pairs(images: list[np.ndarray], captions: list[str], target) -> None:
    """A tiny CLIP trained (contrastively, a few seconds) to tell these images' captions apart, saved in
    open_clip's published layout: with random weights CLIP score could not see captions at all."""
    import open_clip
    from safetensors.torch import save_file

    from humanverse.models.clip.clip_embedder import ClipImageEmbedder, _build_clip

    torch.manual_seed(0)
    model = _build_clip(SMALL_CLIP)
    embedder = ClipImageEmbedder(model.visual, "cpu", torch.float32, SMALL_CLIP)
    from PIL import Image

    pixels = torch.stack([embedder.transform(Image.fromarray(im)) for im in images])
    tokens = open_clip.tokenize(captions)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(60):
        image_features, text_features, scale = model(pixels, tokens)
        logits = scale * image_features @ text_features.T
        labels = torch.arange(len(images))
        loss = (torch.nn.functional.cross_entropy(logits, labels) + torch.nn.functional.cross_entropy(logits.T, labels)) / 2
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    target.mkdir(parents=True, exist_ok=True)
    save_file({k: v.detach().contiguous() for k, v in model.state_dict().items()}, str(target / "open_clip_model.safetensors"))


@pytest.fixture
def small_clip_arch(monkeypatch):
    from humanverse.models.clip import clip_embedder

    monkeypatch.setitem(clip_embedder.EXTRA_ARCHS, SMALL_CLIP, {
        "embed_dim": 32, "quick_gelu": True,
        "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
    })


def test_degradations_score_worse_with_tiny_models(eval_models, eval_shards, small_clip_arch, tmp_path):
    from humanverse.eval.heldout import read_heldout

    items = read_heldout(eval_shards, 6)
    _train_clip_on_pairs([it.framed_image(64) for it in items], [it.caption for it in items], eval_models / "pairs-clip")
    cfg = tiny_eval_config(eval_models).model_copy(deep=True)
    cfg = type(cfg).model_validate({**cfg.model_dump(), "features": {**cfg.features.model_dump(), "clip_arch": SMALL_CLIP,
                                                                      "clip_weights": "pairs-clip"}})
    metrics = run_eval(EvalRequest(data=eval_shards, output=str(tmp_path / "sc"), num_samples=6, self_check=True,
                                   size=64, cfg=cfg), progress=lambda line: None)
    v = metrics["variants"]
    assert abs(v["real"]["fid"]) < 1e-3 and abs(v["real"]["fid_clip"]) < 1e-3  # identical sets
    for kind in ("blur", "noise", "shift"):
        assert v[kind]["fid"] > v["real"]["fid"] + 1e-3, kind  # real vs itself is ~1e-9
        assert v[kind]["kid"] > v["real"]["kid"], kind
        assert v[kind]["fid_clip"] > v["real"]["fid_clip"], kind
    assert v["shuffled_captions"]["clip_score"] < v["real"]["clip_score"] - 5
    assert v["shuffled_captions"]["fid"] == v["real"]["fid"]  # only the captions moved
    saved = json.loads((tmp_path / "sc" / "metrics.json").read_text())
    assert saved["self_check"] is True and set(saved["variants"]) == {"real", "blur", "noise", "shift", "shuffled_captions"}
    assert (tmp_path / "sc" / "index.html").is_file()
