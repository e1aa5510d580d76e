import copy

import pytest
import torch
from diffusers import UNet2DConditionModel

from humanverse.train.lsd.components import build_unet
from humanverse.train.lsd.model import ExpertBranchUNet, sd_key_mapping
from tests.train.conftest import tiny_config

MODALITIES = ("rgb", "depth", "normal")


@pytest.fixture(scope="module")
def sd_unet() -> UNet2DConditionModel:
    torch.manual_seed(0)
    return UNet2DConditionModel(in_channels=4, out_channels=4, **tiny_config().model.unet)


def _inputs(seed=0, same=False):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 4, 16, 16, generator=g)
    noisy = {m: x if same else torch.randn(2, 4, 16, 16, generator=g) for m in MODALITIES}
    return noisy, torch.randn(2, 4, 16, 16, generator=g), torch.tensor([10, 700]), torch.randn(2, 77, 32, generator=g)


@torch.no_grad()
def test_loaded_from_a_saved_sd_unet_it_starts_as_that_unet(sd_unet, tmp_path):
    sd_unet.save_pretrained(tmp_path / "sd" / "unet")  # the published folder layout
    model = build_unet(tiny_config("model.base=" + str(tmp_path / "sd"), "model.unet=null", "model.vae=null"))
    noisy, _, t, context = _inputs(same=True)
    out = model(noisy, torch.zeros(2, 4, 16, 16), t, context)  # zero pose latent: pose weights start at 0
    reference = sd_unet(noisy["rgb"], t, context).sample
    for m in MODALITIES:
        torch.testing.assert_close(out[m], reference, atol=1e-4, rtol=1e-4)


def test_mapping_covers_every_key_once_per_branch(sd_unet):
    model = ExpertBranchUNet.from_sd_unet(sd_unet)
    mapped = [k for key in sd_unet.state_dict() for k in sd_key_mapping(key, len(sd_unet.up_blocks))]
    assert sorted(mapped) == sorted(model.state_dict())
    assert "branches.depth.down_block.resnets.0.conv1.weight" in mapped
    assert "shared_down_blocks.0.resnets.0.conv1.weight" in mapped
    assert model.branches["rgb"].conv_in.weight.shape[1] == 8  # noisy latent + pose latent


@torch.no_grad()
def test_output_side_of_a_branch_changes_only_its_modality(sd_unet):
    model = ExpertBranchUNet.from_sd_unet(sd_unet).eval()
    inputs = _inputs()
    before = model(*inputs)
    for target in MODALITIES:
        changed = copy.deepcopy(model)
        for module in (changed.branches[target].up_block, changed.branches[target].conv_out):
            for p in module.parameters():
                p.add_(0.05 * torch.randn_like(p))
        after = changed(*inputs)
        for m in MODALITIES:
            differs = not torch.allclose(after[m], before[m], atol=1e-6)
            assert differs == (m == target), (target, m)


@torch.no_grad()
def test_each_noisy_latent_enters_only_through_its_own_branch(sd_unet):
    model = ExpertBranchUNet.from_sd_unet(sd_unet).eval()
    noisy, pose, t, context = _inputs()
    poked = dict(noisy, depth=noisy["depth"] + 1.0)
    base = model(noisy, pose, t, context)
    assert not torch.allclose(model(poked, pose, t, context)["rgb"], base["rgb"])  # depth informs rgb (fused trunk)
    model.branches["depth"].conv_in.weight[:, :4].zero_()  # cut depth's own input path
    base = model(noisy, pose, t, context)
    after = model(poked, pose, t, context)
    for m in MODALITIES:
        torch.testing.assert_close(after[m], base[m])


def test_pretrained_round_trip_and_layout_checks(sd_unet, tmp_path):
    model = ExpertBranchUNet.from_sd_unet(sd_unet)
    model.save_pretrained(tmp_path / "lsd")
    again = ExpertBranchUNet.from_pretrained(tmp_path / "lsd", local_files_only=True)
    for key, value in model.state_dict().items():
        assert torch.equal(again.state_dict()[key], value)
    with pytest.raises(ValueError, match="at least two down blocks"):
        ExpertBranchUNet(dict(block_out_channels=[32], down_block_types=["DownBlock2D"], up_block_types=["UpBlock2D"],
                              norm_num_groups=8, cross_attention_dim=32))
