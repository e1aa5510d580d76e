"""The CLIP image tower (open_clip), loaded once per actor, giving batched L2-normalised image embeddings.

Both LAION heads (aesthetic, NSFW) were trained on the L2-normalised OpenAI CLIP ViT-L/14 image embedding,
so that is what this produces: open_clip architecture `ViT-L-14-quickgelu` (OpenAI's weights use QuickGELU)
with OpenAI's preprocessing (shortest side to 224, bicubic, centre crop, OpenAI mean/std).

Weights are an open_clip state dict, as published on the Hugging Face Hub in
`timm/vit_large_patch14_clip_224.openai` (`open_clip_model.safetensors`, or `open_clip_pytorch_model.bin`):
the files open_clip itself fetches for ("ViT-L-14", "openai"). They are loaded with open_clip's own
`load_checkpoint` (strict, weights_only), the same code `create_model(arch, pretrained=<file>)` runs. The
text tower is built because the published checkpoint holds it, and freed right after loading.
"""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path
from typing import Any

import numpy as np
import torch

from humanverse.models.clip.clip_published import CLIP_ARCH as VIT_L14_OPENAI
from humanverse.models.clip.clip_published import CLIP_FILE as PUBLISHED_FILE

TINY_ARCH = "humanverse-tiny-clip"

EXTRA_ARCHS: dict[str, dict[str, Any]] = {
    # A few-MB CLIP with the real heads' 768-d output, for tests and the demo preset: 7x7 patches at 224².
    TINY_ARCH: {
        "embed_dim": 768,
        "quick_gelu": True,
        "vision_cfg": {"image_size": 224, "layers": 2, "width": 64, "head_width": 32, "patch_size": 32},
        "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 1},
    },
}


def model_config(arch: str) -> dict[str, Any]:
    """open_clip's built-in config for arch, or one of ours (EXTRA_ARCHS)."""
    import open_clip

    cfg = EXTRA_ARCHS.get(arch) or open_clip.get_model_config(arch)
    if cfg is None:
        raise ValueError(f"unknown CLIP architecture {arch!r}: use an open_clip name or one of {sorted(EXTRA_ARCHS)}")
    return deepcopy(cfg)


def _build_clip(arch: str):
    import open_clip

    cfg = model_config(arch)
    cfg.pop("preprocess_cfg", None)
    cls = open_clip.CustomTextCLIP if cfg.pop("custom_text", False) else open_clip.CLIP
    return cls(**cfg)


class ClipImageEmbedder:
    """Holds the image tower and its eval transform; embed() turns upright RGB arrays into unit vectors."""

    def __init__(self, visual: torch.nn.Module, device: str, dtype: torch.dtype, arch: str):
        import open_clip

        self.visual = visual.to(device=device, dtype=dtype).eval()
        self.device = device
        self.dtype = dtype
        self.arch = arch
        self.transform = open_clip.image_transform(
            visual.image_size,
            is_train=False,
            mean=open_clip.OPENAI_DATASET_MEAN,
            std=open_clip.OPENAI_DATASET_STD,
            resize_mode="shortest",
            interpolation="bicubic",
        )

    @classmethod
    def load(cls, arch: str, weights: str | Path, device: str = "cpu", dtype: torch.dtype = torch.float32):
        """Build arch and load an open_clip state dict (.safetensors / .bin / .pth) strictly into it."""
        import open_clip

        model = _build_clip(arch)
        try:
            open_clip.load_checkpoint(model, str(weights), strict=True, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - a wrong file gets the one command that fixes it
            raise RuntimeError(
                f"{weights}: missing or wrong format for CLIP {arch} ({type(exc).__name__}: {exc}); "
                "OpenAI's TorchScript ViT-L-14.pt converts with `humanverse models import clip-vit-l-14-openai "
                "ViT-L-14.pt`") from exc
        visual = model.visual
        del model
        return cls(visual, device=device, dtype=dtype, arch=arch)

    @property
    def dim(self) -> int:
        return int(self.visual.output_dim)

    @torch.inference_mode()
    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        """(N, dim) float32 L2-normalised embeddings of RGB uint8 H x W x 3 arrays, as one model batch."""
        from PIL import Image

        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        pixels = torch.stack([self.transform(Image.fromarray(_rgb(im))) for im in images])
        pixels = pixels.to(device=self.device, dtype=self.dtype, non_blocking=True)
        features = self.visual(pixels).float()
        features = torch.nn.functional.normalize(features, dim=-1)
        return features.cpu().numpy()


def _rgb(image: np.ndarray) -> np.ndarray:
    if image is None:
        raise ValueError("sample has no decoded image")
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected RGB uint8 H x W x 3, got {image.dtype} {image.shape}")
    return image


def build_demo_weights(target_dir: Path, arch: str = TINY_ARCH, seed: int = 0) -> Path:
    """Random weights for arch, saved as `open_clip_model.safetensors` (the published open_clip layout).

    The demo preset and the tests use TINY_ARCH; the benchmark builds the real ViT-L-14-quickgelu this way.
    """
    from safetensors.torch import save_file

    torch.manual_seed(seed)
    model = _build_clip(arch)
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    target_dir = Path(target_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    path = target_dir / PUBLISHED_FILE
    save_file(state, str(path))
    return path
