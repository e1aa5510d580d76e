"""The body outpainter's parts: a frozen inpainting base (UNet with 9 input channels, VAE, CLIP text encoder,
tokenizer in SD-2-inpainting's published diffusers layout) and the trainable skeleton ControlNet.

The ControlNet is the refiner's StructureControlNet (one embedder per map, here only the skeleton) copied from
the inpainting UNet, so it takes the same 9-channel input as the UNet: noisy latents, the fill mask and the
masked-image latents. diffusers' ControlNet-inpaint pipeline gives a ControlNet only the 4 noisy channels
because it reuses ControlNets trained on plain SD; ours is trained for this base, so it sees where the hands
are. A random base (tiny preset) is written once to RUN_DIR/frozen/inpaint_base and loaded like the real one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel

from humanverse.models.files import locate
from humanverse.shards.atomic import staged_folder
from humanverse.train.hand_body.config import HandBodyConfig, RandomInpaintBaseConfig
from humanverse.train.refiner.model import StructureControlNet

FROZEN_BASE_DIR = "frozen/inpaint_base"
BASE_FILES = ["unet/config.json", "vae/config.json", "text_encoder/config.json", "tokenizer/tokenizer_config.json"]


@dataclass
class InpaintBase:
    unet: UNet2DConditionModel
    vae: AutoencoderKL
    text_encoder: torch.nn.Module  # transformers CLIPTextModel
    tokenizer: object

    @property
    def vae_scale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    def to(self, device, dtype: torch.dtype) -> "InpaintBase":
        for module in (self.unet, self.vae, self.text_encoder):
            module.to(device)
            if module.dtype != dtype:
                module.to(dtype)
        return self


def write_random_inpaint_base(cfg: RandomInpaintBaseConfig, path: str | Path, seed: int = 0) -> Path:
    """A random inpainting base in SD-2-inpainting's folder layout (atomically: a temporary folder, a rename)."""
    from transformers import CLIPTextConfig, CLIPTextModel

    from humanverse.train.refiner.sdxl_random_base import write_clip_tokenizer

    path = Path(path)
    with staged_folder(path) as tmp, torch.random.fork_rng():
        torch.manual_seed(seed)
        UNet2DConditionModel.from_config(cfg.unet).save_pretrained(tmp / "unet")
        AutoencoderKL.from_config(cfg.vae).save_pretrained(tmp / "vae")
        CLIPTextModel(CLIPTextConfig(**cfg.text_encoder)).save_pretrained(tmp / "text_encoder")
        write_clip_tokenizer(tmp / "tokenizer", "!", cfg.text_encoder.get("max_position_embeddings", 77))
    return path


def base_folder(cfg: HandBodyConfig, run_dir: str | Path, create: bool) -> Path:
    if cfg.model.base is not None:
        return locate(cfg.model.base, BASE_FILES)
    folder = Path(run_dir) / FROZEN_BASE_DIR
    if not (folder / "unet" / "config.json").is_file():
        if not create:
            raise FileNotFoundError(f"no inpainting base: model.base is null and {folder} does not exist")
        write_random_inpaint_base(cfg.model.random_base, folder)
    return folder


def load_inpaint_base(folder: str | Path) -> InpaintBase:
    from transformers import CLIPTextModel, CLIPTokenizer

    folder = str(folder)
    base = InpaintBase(
        unet=UNet2DConditionModel.from_pretrained(folder, subfolder="unet", local_files_only=True),
        vae=AutoencoderKL.from_pretrained(folder, subfolder="vae", local_files_only=True),
        text_encoder=CLIPTextModel.from_pretrained(folder, subfolder="text_encoder", local_files_only=True),
        tokenizer=CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer", local_files_only=True),
    )
    if base.unet.config.in_channels != 9:
        raise ValueError(f"{folder}: the UNet has {base.unet.config.in_channels} input channels; an inpainting "
                         "UNet has 9 (noisy latents, mask, masked-image latents)")
    if base.unet.config.cross_attention_dim != base.text_encoder.config.hidden_size:
        raise ValueError("UNet cross_attention_dim does not match the text encoder's width")
    for module in (base.unet, base.vae, base.text_encoder):
        module.requires_grad_(False).eval()
    return base


def build_controlnet(cfg: HandBodyConfig, base: InpaintBase) -> StructureControlNet:
    controlnet = StructureControlNet.from_unet(base.unet, cfg.condition_embedder)
    if controlnet.condition_embedding.downscale != base.vae_scale:
        raise ValueError(f"condition embedders downscale {controlnet.condition_embedding.downscale}x but the VAE "
                         f"downscales {base.vae_scale}x; set condition_embedder.strides so the product matches")
    return controlnet


@torch.no_grad()
def encode_prompt(base: InpaintBase, captions: list[str], device) -> torch.Tensor:
    """SD-2's text conditioning as diffusers' StableDiffusionInpaintPipeline computes it (last hidden state of
    the converted text tower, which already ends at OpenCLIP's penultimate layer)."""
    ids = base.tokenizer(captions, padding="max_length", max_length=base.tokenizer.model_max_length,
                         truncation=True, return_tensors="pt").input_ids.to(device)
    return base.text_encoder(ids)[0]


def inpaint_inputs(vae, image: torch.Tensor, keep: torch.Tensor, sample: bool,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(fill mask on the latent grid, masked-image latents) as SD-inpainting takes them: mask 1 where the model
    paints (outside `keep`), and the image with the fill region zeroed (grey in [-1, 1]) through the VAE
    (a posterior sample in training, its mode when sampling). image (B,3,H,W) in [-1, 1]; keep (B,1,H,W) 0/1."""
    posterior = vae.encode((image * keep).to(vae.dtype)).latent_dist
    latents = (posterior.sample(generator=generator) if sample else posterior.mode()) * vae.config.scaling_factor
    fill = torch.nn.functional.interpolate(1 - keep.float(), size=latents.shape[-2:], mode="nearest")
    return fill.to(latents.dtype), latents
