"""The published ViTPose layout: exact key names, and the conversion computes what the authors' model does."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip("mmpose")

from humanverse.models.pose.pose_mmpose import build_demo_weights, build_mmpose_model  # noqa: E402
from humanverse.models.pose.vitpose_checkpoint import load_into, read_published  # noqa: E402
from humanverse.models.checkpoint_io import load_torch_file  # noqa: E402


@pytest.fixture(scope="module")
def demo_ckpt(tmp_path_factory):
    return build_demo_weights(tmp_path_factory.mktemp("models"))


def test_demo_file_has_the_authors_key_layout(demo_ckpt):
    ckpt = load_torch_file(demo_ckpt)
    assert set(ckpt) == {"meta", "state_dict"}
    sd = ckpt["state_dict"]
    for key in [
        "backbone.patch_embed.proj.weight",
        "backbone.blocks.0.norm1.weight",
        "backbone.blocks.1.attn.qkv.weight",
        "backbone.blocks.1.attn.proj.bias",
        "backbone.blocks.0.mlp.fc1.weight",
        "backbone.blocks.0.mlp.fc2.bias",
        "backbone.last_norm.weight",
        "keypoint_head.deconv_layers.0.weight",
        "keypoint_head.deconv_layers.4.running_var",
        "keypoint_head.final_layer.weight",
    ]:
        assert key in sd, key
    assert sd["backbone.pos_embed"].shape == (1, 1 + 16 * 12, 32)  # class-token position included
    assert sd["keypoint_head.final_layer.weight"].shape[0] == 133
    assert not any(k.startswith(("head.", "backbone.layers.")) for k in sd)


def _authors_forward(sd, x, heads=2):
    """ViTPose's own forward (ViTAE-Transformer/ViTPose backbones/vit.py + TopdownHeatmapSimpleHead)."""
    p = lambda k: sd[k].float()  # noqa: E731
    t = F.conv2d(x, p("backbone.patch_embed.proj.weight"), p("backbone.patch_embed.proj.bias"), stride=16, padding=2)
    b, c, hp, wp = t.shape
    t = t.flatten(2).transpose(1, 2)
    pos = p("backbone.pos_embed")
    t = t + pos[:, 1:] + pos[:, :1]
    i = 0
    while f"backbone.blocks.{i}.norm1.weight" in sd:
        q = f"backbone.blocks.{i}."
        y = F.layer_norm(t, (c,), p(q + "norm1.weight"), p(q + "norm1.bias"), eps=1e-6)
        qkv = F.linear(y, p(q + "attn.qkv.weight"), p(q + "attn.qkv.bias")).reshape(b, -1, 3, heads, c // heads)
        qq, kk, vv = qkv.permute(2, 0, 3, 1, 4)
        attn = ((qq * (c // heads) ** -0.5) @ kk.transpose(-2, -1)).softmax(-1)
        y = (attn @ vv).transpose(1, 2).reshape(b, -1, c)
        t = t + F.linear(y, p(q + "attn.proj.weight"), p(q + "attn.proj.bias"))
        y = F.layer_norm(t, (c,), p(q + "norm2.weight"), p(q + "norm2.bias"), eps=1e-6)
        y = F.linear(F.gelu(F.linear(y, p(q + "mlp.fc1.weight"), p(q + "mlp.fc1.bias"))), p(q + "mlp.fc2.weight"), p(q + "mlp.fc2.bias"))
        t = t + y
        i += 1
    t = F.layer_norm(t, (c,), p("backbone.last_norm.weight"), p("backbone.last_norm.bias"), eps=1e-6)
    f = t.transpose(1, 2).reshape(b, c, hp, wp)
    for j in (0, 3):
        h = f"keypoint_head.deconv_layers.{j}.weight"
        f = F.conv_transpose2d(f, p(h), stride=2, padding=1)
        bn = f"keypoint_head.deconv_layers.{j + 1}."
        f = F.batch_norm(f, p(bn + "running_mean"), p(bn + "running_var"), p(bn + "weight"), p(bn + "bias"), eps=1e-5)
        f = F.relu(f)
    return F.conv2d(f, p("keypoint_head.final_layer.weight"), p("keypoint_head.final_layer.bias"))


def test_converted_checkpoint_computes_the_authors_heatmaps(demo_ckpt):
    sd = load_torch_file(demo_ckpt)["state_dict"]
    model = build_mmpose_model("tiny")
    load_into(model, demo_ckpt)
    x = torch.randn(2, 3, 256, 192)
    with torch.no_grad():
        ours = model._forward(x)
        ref = _authors_forward(sd, x)
    assert ours.shape == (2, 133, 64, 48)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)


def test_pos_embed_class_position_is_folded_in_not_dropped(demo_ckpt):
    sd = load_torch_file(demo_ckpt)["state_dict"]
    sd["backbone.pos_embed"][:, :1] = 0.5  # the authors add this row to every patch position
    converted = read_published_from_dict(sd)
    np.testing.assert_allclose(converted["backbone.pos_embed"], sd["backbone.pos_embed"][:, 1:] + 0.5)


def read_published_from_dict(sd):
    from humanverse.models.pose.vitpose_checkpoint import published_to_mmpose1

    return published_to_mmpose1(sd)


def test_wrong_arch_is_a_clear_error(demo_ckpt):
    model = build_mmpose_model("tiny", input_size=(128, 96))  # other grid: pos_embed shape differs
    with pytest.raises(ValueError, match="wrong shapes"):
        load_into(model, demo_ckpt)


def test_mmpose1_checkpoint_passes_through(demo_ckpt, tmp_path):
    model = build_mmpose_model("tiny")
    load_into(model, demo_ckpt)
    path = tmp_path / "mmpose1.pth"
    torch.save({"state_dict": model.state_dict(), "meta": {"arr": np.arange(3)}}, path)  # runner-style meta
    assert set(read_published(path)) == set(model.state_dict())
