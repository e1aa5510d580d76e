"""The real preset's refiner at full SDXL size, built from config on the meta device (no memory, no weights):
the trainable part must be exactly SDXL's encoder copy, its zero convs and the three condition embedders."""

import torch
from diffusers import UNet2DConditionModel

from humanverse.train.refiner.config import ConditionEmbedderConfig
from humanverse.train.refiner.model import StructureControlNet

# stabilityai/stable-diffusion-xl-base-1.0 unet/config.json (architecture fields).
SDXL_BASE_UNET = dict(
    sample_size=128, in_channels=4, out_channels=4, layers_per_block=2, block_out_channels=[320, 640, 1280],
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    attention_head_dim=[5, 10, 20], transformer_layers_per_block=[1, 2, 10], cross_attention_dim=2048,
    use_linear_projection=True, addition_embed_type="text_time", addition_time_embed_dim=256,
    projection_class_embeddings_input_dim=2816, norm_num_groups=32, flip_sin_to_cos=True, freq_shift=0,
)


def _count(*modules) -> int:
    return sum(p.numel() for m in modules for p in m.parameters())


def embedder_parameters(in_channels: int, channels=(16, 32, 96, 256), kernel: int = 4) -> int:
    total, previous = 0, in_channels
    for width in channels:
        total += previous * width * kernel * kernel + width
        previous = width
    return total


def test_real_size_refiner_parameter_counts():
    with torch.device("meta"):
        unet = UNet2DConditionModel(**SDXL_BASE_UNET)
        controlnet = StructureControlNet.from_unet(unet, ConditionEmbedderConfig(), load_weights=False)
    assert _count(unet) == 2_567_463_684  # SDXL base UNet, frozen
    copied = _count(unet.conv_in, unet.time_embedding, unet.add_embedding, unet.down_blocks, unet.mid_block)
    cn = controlnet.controlnet
    zero_convs = _count(cn.controlnet_down_blocks, cn.controlnet_mid_block)
    embedders = sum(embedder_parameters(c) for c in (3, 1, 3))
    projection = 256 * 320 * 3 * 3 + 320
    assert _count(controlnet.condition_embedding) == embedders + projection
    assert _count(controlnet) == copied + zero_convs + embedders + projection
    assert 1.2e9 < _count(controlnet) < 1.3e9
