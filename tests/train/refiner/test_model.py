"""The refiner's model: SDXL base frozen, a ControlNet copy of its encoder trained through the base."""

import copy

import pytest
import torch

from humanverse.train.common.config import load_config
from humanverse.train.refiner.components import (
    base_folder,
    build_controlnet,
    check_compatible,
    encode_prompt,
    load_sdxl_base,
    micro_conditioning,
)
from humanverse.train.refiner.config import RefinerConfig
from humanverse.train.refiner.model import StructureControlNet, refined_noise_prediction
from humanverse.train.refiner.train import RefinerObjective
from humanverse.train.common.shard_data import make_dataloader


def tiny_refiner_config(*overrides: str) -> RefinerConfig:
    return load_config(RefinerConfig, preset="refiner_tiny", overrides=list(overrides))


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    """A random SDXL-shaped base written in SDXL's folder layout, as the tiny preset does for a run."""
    return base_folder(tiny_refiner_config(), tmp_path_factory.mktemp("refiner_run"), create=True)


@pytest.fixture
def base(base_dir):
    return load_sdxl_base(base_dir)


def _inputs(base, batch=2, size=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    context, pooled = encode_prompt(base, ["a person dancing", ""][:batch], "cpu")
    time_ids = micro_conditioning(torch.full((batch, 2), 64.0), torch.zeros(batch, 2), size)
    maps = {"pose": torch.rand(batch, 3, size, size, generator=g), "depth": torch.rand(batch, 1, size, size, generator=g),
            "normal": torch.rand(batch, 3, size, size, generator=g) * 2 - 1}
    noisy = torch.randn(batch, 4, size // 8, size // 8, generator=g)
    return noisy, torch.tensor([10, 600][:batch]), context, {"text_embeds": pooled, "time_ids": time_ids}, maps


def test_base_loads_from_the_published_layout(base_dir, base):
    for part in ("unet", "vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2"):
        assert (base_dir / part).is_dir()
    assert (base_dir / "tokenizer_2" / "vocab.json").is_file() and (base_dir / "tokenizer_2" / "merges.txt").is_file()
    assert base.tokenizer_2.pad_token == "!" and base.tokenizer.pad_token == "<|endoftext|>"  # as SDXL ships them
    context, pooled = encode_prompt(base, ["a person", "two people"], "cpu")
    assert context.shape == (2, 77, base.unet.config.cross_attention_dim) and pooled.shape == (2, 32)
    assert base.vae_scale == 8


def test_encoder_copy_and_fresh_refiner_is_exactly_the_base(base):
    controlnet = build_controlnet(tiny_refiner_config(), base)
    for name, value in base.unet.down_blocks.state_dict().items():
        assert torch.equal(controlnet.controlnet.down_blocks.state_dict()[name], value)
    assert torch.equal(controlnet.controlnet.add_embedding.linear_1.weight, base.unet.add_embedding.linear_1.weight)
    noisy, t, context, added, maps = _inputs(base)
    with torch.no_grad():
        refined = refined_noise_prediction(base.unet, controlnet, noisy, t, context, added, maps)
        plain = base.unet(noisy, t, encoder_hidden_states=context, added_cond_kwargs=added).sample
    torch.testing.assert_close(refined, plain)  # zero convs: training starts from SDXL itself


def test_frozen_base_gets_no_gradients_and_the_controlnet_does(base, shards):
    torch.manual_seed(0)
    cfg = tiny_refiner_config("objective.text_dropout=0", "objective.condition_dropout=0")
    controlnet = build_controlnet(cfg, base)
    batch = next(iter(make_dataloader(shards, cfg.data, seed=0)))
    objective = RefinerObjective(controlnet, base, cfg, torch.device("cpu"))
    # Zero convs (out of the copy) and the zero projection (out of the embedders) pass gradients on only once
    # they have moved: step 1 trains the zero convs, step 2 the copy and the projection, step 3 reaches all.
    for step in range(3):
        controlnet.zero_grad()
        loss, parts = objective.loss(batch, generator=torch.Generator().manual_seed(1))
        loss.backward()
        if step < 2:
            with torch.no_grad():
                for p in controlnet.parameters():
                    p -= 1e-2 * p.grad.sign()
    assert parts["text_dropped"] == 0 and parts["depth_dropped"] == 0
    for module in (base.unet, base.vae, base.text_encoder, base.text_encoder_2):
        assert all(not p.requires_grad and p.grad is None for p in module.parameters())
    grads = {name: p.grad for name, p in controlnet.named_parameters()}
    assert all(g is not None for g in grads.values())
    for prefix in ("controlnet.controlnet_cond_embedding.embedders.pose.", "controlnet.controlnet_cond_embedding.embedders.depth.",
                   "controlnet.controlnet_cond_embedding.embedders.normal.", "controlnet.down_blocks.",
                   "controlnet.controlnet_down_blocks.", "controlnet.controlnet_mid_block."):
        assert any(g.abs().sum() > 0 for n, g in grads.items() if n.startswith(prefix)), prefix


def test_objective_draws_timesteps_as_configured(base, shards):
    """`objective.timesteps` reaches the draw: a strong high-noise bias puts every draw high; the default is
    uniform (and the draw the trainer made before the option existed, tests/train/common)."""
    from unittest import mock

    from humanverse.train.refiner import train as refiner_train

    drawn = []

    def record(*args, **kwargs):
        noised = original(*args, **kwargs)
        drawn.append(noised.timesteps)
        return noised

    original = refiner_train.noise_all_at_one_timestep
    default = tiny_refiner_config()
    assert default.objective.timesteps.scheme == "uniform"
    with pytest.raises(Exception, match="logit_normal"):
        tiny_refiner_config("objective.timesteps.logit_mean=1")
    with pytest.raises(Exception, match="bias"):
        tiny_refiner_config("objective.timesteps.bias=later")
    cfg = tiny_refiner_config("objective.timesteps.scheme=logit_normal", "objective.timesteps.logit_mean=4",
                              "objective.timesteps.logit_std=0.5")
    batch = next(iter(make_dataloader(shards, cfg.data, seed=0)))
    controlnet = build_controlnet(cfg, base)
    with mock.patch.object(refiner_train, "noise_all_at_one_timestep", record), torch.no_grad():
        for seed in range(4):
            RefinerObjective(controlnet, base, cfg, torch.device("cpu")).loss(batch, torch.Generator().manual_seed(seed))
    assert torch.cat(drawn).min() > 800  # sigmoid(4 - 4 x 0.5) = 0.88; uniform would put half below 500


def test_every_condition_steers_the_prediction_and_zeros_mean_absent(base):
    torch.manual_seed(0)
    controlnet = build_controlnet(tiny_refiner_config(), base)
    with torch.no_grad():  # a "trained" ControlNet: non-zero projection and zero convs
        for module in [controlnet.condition_embedding.conv_out, *controlnet.controlnet.controlnet_down_blocks,
                       controlnet.controlnet.controlnet_mid_block]:
            module.weight.normal_(0, 0.1)
    noisy, t, context, added, maps = _inputs(base)
    with torch.no_grad():
        reference = refined_noise_prediction(base.unet, controlnet, noisy, t, context, added, maps)
        for name in maps:
            changed = dict(maps, **{name: torch.zeros_like(maps[name])})
            out = refined_noise_prediction(base.unet, controlnet, noisy, t, context, added, changed)
            assert not torch.allclose(out, reference, atol=1e-5), name
    with pytest.raises(KeyError, match="missing condition maps"):
        controlnet(noisy, t, context, added, {"pose": maps["pose"]})
    with pytest.raises(ValueError, match="condition maps are"):
        controlnet(noisy, t, context, added, {k: v[..., :32, :32] for k, v in maps.items()})


def test_pretrained_round_trip(base, tmp_path):
    controlnet = build_controlnet(tiny_refiner_config(), base)
    with torch.no_grad():
        controlnet.condition_embedding.conv_out.weight.normal_()
    controlnet.save_pretrained(tmp_path / "controlnet")
    again = StructureControlNet.from_pretrained(tmp_path / "controlnet", local_files_only=True)
    assert again.condition_names == ["depth", "normal", "pose"]  # name order survives the sorted config
    for key, value in controlnet.state_dict().items():
        assert torch.equal(again.state_dict()[key], value), key


def test_parts_that_do_not_fit_fail_at_start_up(base):
    wrong_strides = tiny_refiner_config("condition_embedder.strides=[2, 2, 2, 2]")
    with pytest.raises(ValueError, match="downscale"):
        build_controlnet(wrong_strides, base)
    controlnet = build_controlnet(tiny_refiner_config(), base)
    narrow = copy.deepcopy(base)
    narrow.unet.register_to_config(cross_attention_dim=48)
    with pytest.raises(ValueError, match="cross_attention_dim"):
        check_compatible(narrow, controlnet)
    with pytest.raises(ValueError, match="not what the shard loader provides"):
        tiny_refiner_config("condition_embedder.conditions={pose: 3, hand: 3}")
    with pytest.raises(ValueError, match="exactly one of"):
        tiny_refiner_config("model.base=stable-diffusion-xl-base-1.0")
