"""The OpenCLIP text encoder SD-2 conditions on, built with open_clip's own code and loaded from a local file.

SD-2 uses the per-token states of OpenCLIP ViT-H/14's text transformer at the penultimate layer, after the
final LayerNorm (Stability's FrozenOpenCLIPEmbedder, layer="penultimate"); this module reproduces that, so
a stage-1 model initialised from SD-2-base sees the text features it was trained with. Only the text tower
is kept: ViT-H's image tower is 630M parameters the trainer never uses.

The tiny preset builds the same class from a tiny `text_cfg` (and vision_cfg) with random weights; the
tokenizer is always open_clip's bundled BPE, so nothing is downloaded.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import torch
from torch import nn

from humanverse.config_base import Section

log = logging.getLogger(__name__)


class TextEncoderConfig(Section):
    open_clip_model: str = "ViT-H-14"
    weights: str | None = None
    """Local open_clip checkpoint (e.g. open_clip_pytorch_model.bin of laion2b_s32b_b79k); a path relative to
    the models directory or absolute. None builds random weights (tiny preset, tests)."""
    layer: Literal["penultimate", "last"] = "penultimate"
    model_overrides: dict[str, Any] | None = None
    """Passed to open_clip.create_model as keyword overrides (e.g. a tiny text_cfg / vision_cfg / embed_dim)."""


class OpenClipTextEncoder(nn.Module):
    def __init__(self, clip_model: nn.Module, context_length: int, layer: str = "penultimate"):
        super().__init__()
        self.token_embedding = clip_model.token_embedding
        self.positional_embedding = clip_model.positional_embedding
        self.transformer = clip_model.transformer
        self.ln_final = clip_model.ln_final
        self.register_buffer("attn_mask", clip_model.attn_mask, persistent=False)
        self.context_length = context_length
        self.skip_last = 1 if layer == "penultimate" else 0

    @property
    def hidden_size(self) -> int:
        return self.token_embedding.embedding_dim

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids (B, context_length) to per-token states (B, context_length, width)."""
        x = self.token_embedding(tokens) + self.positional_embedding
        blocks = self.transformer.resblocks
        for block in blocks[: len(blocks) - self.skip_last]:
            x = block(x, attn_mask=self.attn_mask)
        return self.ln_final(x)


def build_text_encoder(cfg: TextEncoderConfig, weights_path: str | None = None):
    """(encoder, tokenizer): the encoder frozen in eval mode, the tokenizer open_clip's bundled one."""
    import open_clip

    model = open_clip.create_model(
        cfg.open_clip_model, pretrained=weights_path, load_weights=weights_path is not None,
        **(cfg.model_overrides or {}),
    )
    if weights_path is None:
        log.warning("text encoder %s has random weights (no weights file configured)", cfg.open_clip_model)
    tokenizer = open_clip.get_tokenizer(cfg.open_clip_model, context_length=model.context_length)
    encoder = OpenClipTextEncoder(model, model.context_length, cfg.layer)
    del model
    encoder.requires_grad_(False).eval()
    return encoder, tokenizer
