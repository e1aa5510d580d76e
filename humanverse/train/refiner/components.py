"""The refiner's frozen SDXL base (UNet, VAE, two text encoders) and how captions and sizes become its inputs.

Everything loads from a folder in SDXL's published diffusers layout, with local_files_only: the real preset
points at stable-diffusion-xl-base-1.0 under the models directory; the tiny preset writes a random
SDXL-shaped base once to RUN_DIR/frozen/sdxl_base (sdxl_random_base.py) and loads it with the same code, so
resume and sampling see the very same random base.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel

from humanverse.models.files import locate
from humanverse.train.refiner.config import RefinerConfig
from humanverse.train.refiner.model import StructureControlNet

FROZEN_BASE_DIR = "frozen/sdxl_base"
BASE_FILES = [
    "unet/config.json", "vae/config.json", "text_encoder/config.json", "text_encoder_2/config.json",
    "tokenizer/tokenizer_config.json", "tokenizer_2/tokenizer_config.json",
]


@dataclass
class SDXLBase:
    unet: UNet2DConditionModel
    vae: AutoencoderKL
    text_encoder: torch.nn.Module  # CLIPTextModel
    text_encoder_2: torch.nn.Module  # CLIPTextModelWithProjection
    tokenizer: object
    tokenizer_2: object

    @property
    def vae_scale(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    def to(self, device, dtype: torch.dtype) -> SDXLBase:
        """Frozen parts in the training/sampling dtype; SDXL's VAE overflows in fp16, so it stays fp32 there."""
        vae_dtype = torch.float32 if dtype == torch.float16 and self.vae.config.force_upcast else dtype
        for module, wanted in ((self.vae, vae_dtype), (self.unet, dtype), (self.text_encoder, dtype),
                               (self.text_encoder_2, dtype)):
            module.to(device)
            if module.dtype != wanted:  # a same-dtype cast would only make diffusers warn
                module.to(wanted)
        return self


def base_folder(cfg: RefinerConfig, run_dir: str | Path, create: bool) -> Path:
    """The SDXL base folder: the configured one, or the run's random base (written here when create=True)."""
    if cfg.model.base is not None:
        return locate(cfg.model.base, BASE_FILES)
    folder = Path(run_dir) / FROZEN_BASE_DIR
    if not (folder / "unet" / "config.json").is_file():
        if not create:
            raise FileNotFoundError(f"no SDXL base: model.base is null and {folder} does not exist")
        from humanverse.train.refiner.sdxl_random_base import write_random_sdxl_base

        folder.parent.mkdir(parents=True, exist_ok=True)
        write_random_sdxl_base(cfg.model.random_base, folder)
    return folder


def load_sdxl_base(folder: str | Path) -> SDXLBase:
    """Every part frozen and in eval mode; nothing is fetched from a hub."""
    from transformers import CLIPTextModel, CLIPTextModelWithProjection, CLIPTokenizer

    folder = str(folder)
    base = SDXLBase(
        unet=UNet2DConditionModel.from_pretrained(folder, subfolder="unet", local_files_only=True),
        vae=AutoencoderKL.from_pretrained(folder, subfolder="vae", local_files_only=True),
        text_encoder=CLIPTextModel.from_pretrained(folder, subfolder="text_encoder", local_files_only=True),
        text_encoder_2=CLIPTextModelWithProjection.from_pretrained(folder, subfolder="text_encoder_2",
                                                                   local_files_only=True),
        tokenizer=CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer", local_files_only=True),
        tokenizer_2=CLIPTokenizer.from_pretrained(folder, subfolder="tokenizer_2", local_files_only=True),
    )
    for module in (base.unet, base.vae, base.text_encoder, base.text_encoder_2):
        module.requires_grad_(False).eval()
    return base


def build_controlnet(cfg: RefinerConfig, base: SDXLBase) -> StructureControlNet:
    """The trainable part, its encoder copied from the base UNet."""
    controlnet = StructureControlNet.from_unet(base.unet, cfg.condition_embedder)
    check_compatible(base, controlnet)
    return controlnet


def check_compatible(base: SDXLBase, controlnet: StructureControlNet) -> None:
    """Fail at start-up, not at the first forward, when the parts do not fit together."""
    unet = base.unet.config
    if unet.addition_embed_type != "text_time":
        raise ValueError(f"the refiner needs an SDXL-style UNet (addition_embed_type='text_time'), "
                         f"got {unet.addition_embed_type!r}")
    width = base.text_encoder.config.hidden_size + base.text_encoder_2.config.hidden_size
    if unet.cross_attention_dim != width:
        raise ValueError(f"UNet cross_attention_dim {unet.cross_attention_dim} != text encoder widths summed {width}")
    pooled = base.text_encoder_2.config.projection_dim
    if unet.projection_class_embeddings_input_dim != pooled + 6 * unet.addition_time_embed_dim:
        raise ValueError("UNet projection_class_embeddings_input_dim must be pooled text dim + 6 size/crop embeddings")
    if controlnet.condition_embedding.downscale != base.vae_scale:
        raise ValueError(f"condition embedders downscale {controlnet.condition_embedding.downscale}x but the VAE "
                         f"downscales {base.vae_scale}x; set condition_embedder.strides so the product matches")


@torch.no_grad()
def encode_prompt(base: SDXLBase, captions: list[str], device) -> tuple[torch.Tensor, torch.Tensor]:
    """SDXL's text conditioning: both encoders' penultimate states concatenated, and text_encoder_2's pooled
    projection (diffusers StableDiffusionXLPipeline.encode_prompt, clip_skip=None)."""
    states = []
    for tokenizer, encoder in ((base.tokenizer, base.text_encoder), (base.tokenizer_2, base.text_encoder_2)):
        ids = tokenizer(captions, padding="max_length", max_length=tokenizer.model_max_length, truncation=True,
                        return_tensors="pt").input_ids.to(device)
        out = encoder(ids, output_hidden_states=True)
        states.append(out.hidden_states[-2])
    return torch.cat(states, dim=-1), out.text_embeds


def micro_conditioning(original_size: torch.Tensor, crop_top_left: torch.Tensor, target_size: int) -> torch.Tensor:
    """SDXL's size/crop conditioning, (B, 6): original (h, w), crop top-left (y, x), target (h, w)."""
    target = torch.full_like(original_size, float(target_size))
    return torch.cat([original_size, crop_top_left, target], dim=1)
