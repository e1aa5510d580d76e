"""A randomly initialised SDXL-shaped base, written in SDXL's published folder layout.

The tiny preset and the tests need an SDXL base without downloading one. Rather than a second code path,
we build the same classes SDXL ships (UNet2DConditionModel with text_time embeddings, AutoencoderKL, a
CLIPTextModel and a CLIPTextModelWithProjection, two CLIP tokenizers) from small configs, save them with
`save_pretrained` the way stabilityai/stable-diffusion-xl-base-1.0 is laid out, and the refiner then loads
that folder with the same `from_pretrained(local_files_only=True)` code as the real one.

The tokenizers are CLIP's real BPE vocabulary, taken from the copy bundled with open_clip (MACHINE.md) and
written as the vocab.json / merges.txt files SDXL ships, so loading them is SDXL's path too.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from humanverse.shards.atomic import staged_folder
from humanverse.train.refiner.config import RandomBaseConfig

log = logging.getLogger(__name__)


def write_clip_tokenizer(path: str | Path, pad_token: str, model_max_length: int = 77) -> None:
    """CLIP's tokenizer files as SDXL publishes them (vocab.json, merges.txt, tokenizer_config.json).

    SDXL's tokenizer pads with <|endoftext|>, its tokenizer_2 with "!"; we keep that difference.
    """
    from open_clip.tokenizer import SimpleTokenizer

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    simple = SimpleTokenizer()
    rename = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    vocab = {rename.get(token, token): index for token, index in simple.encoder.items()}
    merges = sorted(simple.bpe_ranks, key=simple.bpe_ranks.get)
    (path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False))
    (path / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(pair) for pair in merges) + "\n")
    (path / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "CLIPTokenizer", "model_max_length": model_max_length, "pad_token": pad_token,
        "bos_token": "<|startoftext|>", "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>",
    }, indent=2))


def write_random_sdxl_base(cfg: RandomBaseConfig, path: str | Path, seed: int = 0) -> Path:
    """Build and save a random SDXL-shaped base under `path` (atomically: a temporary folder, then a rename)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTextModelWithProjection

    path = Path(path)
    with staged_folder(path) as tmp:
        with torch.random.fork_rng():  # reproducible weights without touching the caller's RNG
            torch.manual_seed(seed)
            UNet2DConditionModel.from_config(cfg.unet).save_pretrained(tmp / "unet")
            AutoencoderKL.from_config(cfg.vae).save_pretrained(tmp / "vae")
            CLIPTextModel(CLIPTextConfig(**cfg.text_encoder)).save_pretrained(tmp / "text_encoder")
            CLIPTextModelWithProjection(CLIPTextConfig(**cfg.text_encoder_2)).save_pretrained(tmp / "text_encoder_2")
        context = cfg.text_encoder.get("max_position_embeddings", 77)
        write_clip_tokenizer(tmp / "tokenizer", "<|endoftext|>", context)
        write_clip_tokenizer(tmp / "tokenizer_2", "!", context)
    log.warning("random SDXL-shaped base (model.random_base) written to %s", path)
    return path
