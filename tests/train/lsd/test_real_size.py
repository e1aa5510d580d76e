"""The real preset's model at full SD-2-base size, built from config on the meta device (no memory, no
weights): the expert branches must add exactly two extra copies of the replicated parts."""

import torch
from diffusers import UNet2DConditionModel

from humanverse.train.lsd.model import ExpertBranchUNet

# stabilityai/stable-diffusion-2-base unet/config.json (architecture fields).
SD2_BASE_UNET = dict(
    sample_size=64, in_channels=4, out_channels=4, layers_per_block=2,
    block_out_channels=[320, 640, 1280, 1280], attention_head_dim=[5, 10, 20, 20], cross_attention_dim=1024,
    down_block_types=["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    up_block_types=["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
    use_linear_projection=True, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0,
)


def _count(module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_real_size_expert_unet_parameter_count():
    with torch.device("meta"):
        sd = UNet2DConditionModel(**SD2_BASE_UNET)
        lsd = ExpertBranchUNet(unet_config=SD2_BASE_UNET)
    ends = (sd.conv_in, sd.down_blocks[0], sd.up_blocks[-1], sd.conv_norm_out, sd.conv_out)
    replicated = sum(_count(m) for m in ends)
    extra_conv_in = 4 * sd.conv_in.out_channels * 3 * 3  # 4 pose channels per branch
    assert 860e6 < _count(sd) < 870e6  # SD-2's 865.9M
    assert _count(lsd) == _count(sd) + 2 * replicated + 3 * extra_conv_in
