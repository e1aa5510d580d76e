"""Building stage 1's models (expert UNet, VAE, text encoder) for training and for sampling.

Pretrained parts come from local files only (model_files.locate, from_pretrained(local_files_only=True)).
Randomly initialised frozen parts (tiny preset, tests) are written once to RUN_DIR/frozen/ and reloaded
from there on resume and at sampling time: a resumed run or a sampler with a *different* random VAE or text
encoder would silently be a different model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers import AutoencoderKL, UNet2DConditionModel
from safetensors.torch import load_file, save_file

from humanverse.models.files import locate
from humanverse.train.lsd.config import LSDConfig
from humanverse.train.lsd.model import ExpertBranchUNet
from humanverse.train.common.text_encoder import OpenClipTextEncoder, build_text_encoder

log = logging.getLogger(__name__)

FROZEN_DIR = "frozen"
TEXT_ENCODER_FILE = "text_encoder.safetensors"


@dataclass
class Stage1Frozen:
    vae: AutoencoderKL
    text_encoder: OpenClipTextEncoder
    tokenizer: object


def load_frozen(cfg: LSDConfig, run_dir: str | Path, create: bool) -> Stage1Frozen:
    """VAE + text encoder. With create=True, random ones are made and saved under run_dir/frozen/ if absent."""
    frozen = Path(run_dir) / FROZEN_DIR
    if cfg.model.base is not None:
        base = locate(cfg.model.base, ["vae/config.json"])
        vae = AutoencoderKL.from_pretrained(base, subfolder="vae", local_files_only=True)
    elif (frozen / "vae" / "config.json").is_file():
        vae = AutoencoderKL.from_pretrained(frozen / "vae", local_files_only=True)
    elif create:
        vae = AutoencoderKL.from_config(cfg.model.vae)
        vae.save_pretrained(frozen / "vae")
        log.warning("random VAE (no model.base); saved to %s", frozen / "vae")
    else:
        raise FileNotFoundError(f"no VAE: model.base is null and {frozen / 'vae'} does not exist")

    weights = str(locate(cfg.text_encoder.weights, [])) if cfg.text_encoder.weights else None
    text_encoder, tokenizer = build_text_encoder(cfg.text_encoder, weights)
    if weights is None:
        saved = frozen / TEXT_ENCODER_FILE
        if saved.is_file():
            text_encoder.load_state_dict(load_file(saved))
        elif create:
            frozen.mkdir(parents=True, exist_ok=True)
            save_file({k: v.contiguous() for k, v in text_encoder.state_dict().items()}, saved)
        else:
            raise FileNotFoundError(f"no text encoder: text_encoder.weights is null and {saved} does not exist")
    vae.requires_grad_(False).eval()
    return Stage1Frozen(vae, text_encoder, tokenizer)


def build_unet(cfg: LSDConfig) -> ExpertBranchUNet:
    """The trainable model: from SD-2-base's UNet (replicating the branch parts) or random from config; one
    expert branch per modality of the config's objective."""
    modalities = tuple(cfg.objective.MODALITIES)
    if cfg.model.base is not None:
        base = locate(cfg.model.base, ["unet/config.json"])
        sd_unet = UNet2DConditionModel.from_pretrained(base, subfolder="unet", local_files_only=True)
        model = ExpertBranchUNet.from_sd_unet(sd_unet, modalities)
        del sd_unet
        return model
    return ExpertBranchUNet(unet_config=dict(cfg.model.unet), modalities=modalities, latent_channels=4,
                            condition_channels=4)


def check_compatible(unet: ExpertBranchUNet, frozen: Stage1Frozen) -> None:
    """Fail at start-up, not at the first forward, when the parts do not fit together."""
    cross = unet.config.unet_config.get("cross_attention_dim")
    if cross != frozen.text_encoder.hidden_size:
        raise ValueError(f"UNet cross_attention_dim {cross} != text encoder width {frozen.text_encoder.hidden_size}")
    if frozen.vae.config.latent_channels != unet.config.latent_channels:
        raise ValueError("VAE latent_channels does not match the UNet's latent channels")


def encode_text(frozen: Stage1Frozen, captions: list[str], device: torch.device) -> torch.Tensor:
    tokens = frozen.tokenizer(captions).to(device)
    return frozen.text_encoder(tokens)
