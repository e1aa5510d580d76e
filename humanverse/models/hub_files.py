"""Which files of each Hugging Face Hub repo the loaders read, with the evidence for each name.

`humanverse models download` fetches only these (never a whole repository: SD and SDXL repos hold several
multi-GB variants of every weight). A name is a glob matched against the repo's file listing; a `one_of` group
takes the first name the repo has. Published sha256 digests go in the registry entry's `sha256` (checked after
download); none of the hub repos below publishes one outside its LFS pointers, so none is pinned here.

Evidence, all readable in this venv's installed packages:
* open_clip `pretrained.py`: `_VITL14["openai"]` has `hf_hub="timm/vit_large_patch14_clip_224.openai/"`;
  `download_pretrained_from_hf` asks for `HF_WEIGHTS_NAME` = "open_clip_pytorch_model.bin" and first tries its
  safetensors alternative `HF_SAFE_WEIGHTS_NAME` = "open_clip_model.safetensors" (`constants.py`). Which of the
  two the repo holds was not verified here, so both are accepted, safetensors first.
  OpenAI's own `ViT-L-14.pt` (`_VITL14["openai"]["url"]`) is a TorchScript archive: `models import` converts it;
  its sha256 is the URL's second-to-last segment, which OpenAI's `clip._download` verifies.
* transformers' Sapiens2 (`models/sapiens2/modeling_sapiens2.py` docstrings) loads `facebook/sapiens2-<task>-<size>`
  with `AutoModel.from_pretrained` / `AutoImageProcessor.from_pretrained`: transformers' own names
  `config.json`, `preprocessor_config.json`, `model.safetensors` (or an index + shards).
* diffusers' pipeline folders: `model_index.json`, each component's `config.json` / `scheduler_config.json`,
  tokenizers, and the non-variant `diffusion_pytorch_model.safetensors` / `model.safetensors` (the `.fp16.` and
  `.bin`/`.ckpt` duplicates are not fetched).
* transformers' DPT (`Intel/dpt-hybrid-midas`): `config.json`, `preprocessor_config.json`, and
  `model.safetensors` or `pytorch_model.bin` (models/dense/dpt_midas.py WEIGHT_FILES).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass


@dataclass(frozen=True)
class HubFiles:
    patterns: tuple[str, ...] = ()
    one_of: tuple[tuple[str, ...], ...] = ()
    required: tuple[str, ...] = ()
    """Names that must be in the repo (a missing one is an error naming it)."""

    def select(self, listing: list[str]) -> list[str]:
        """The files to fetch from a repo whose files are LISTING; raises naming anything missing."""
        chosen = [name for name in listing if any(fnmatch.fnmatchcase(name, p) for p in self.patterns)]
        missing = [r for r in self.required if r not in listing]
        for group in self.one_of:
            hit = next((name for name in group if name in listing), None)
            if hit is None:
                missing.append(" or ".join(group))
            elif hit not in chosen:
                chosen.append(hit)
        if missing:
            raise ValueError(f"the repository has no {', '.join(missing)}")
        return sorted(set(chosen))


_TRANSFORMERS = HubFiles(patterns=("config.json", "preprocessor_config.json", "model.safetensors",
                                   "model.safetensors.index.json", "model-*-of-*.safetensors"),
                         required=("config.json",),
                         one_of=(("model.safetensors", "model.safetensors.index.json"),))
_DIFFUSERS = HubFiles(patterns=("model_index.json", "*/config.json", "scheduler/scheduler_config.json",
                                "tokenizer*/*.json", "tokenizer*/*.txt", "feature_extractor/preprocessor_config.json",
                                "unet/diffusion_pytorch_model.safetensors", "vae/diffusion_pytorch_model.safetensors",
                                "text_encoder*/model.safetensors"),
                      required=("model_index.json", "unet/diffusion_pytorch_model.safetensors",
                                "vae/diffusion_pytorch_model.safetensors"))

HUB_FILES: dict[str, HubFiles] = {
    "clip-vit-l-14-openai": HubFiles(one_of=(("open_clip_model.safetensors", "open_clip_pytorch_model.bin"),)),
    "dpt-hybrid-midas": HubFiles(required=("config.json",), patterns=("config.json", "preprocessor_config.json"),
                                 one_of=(("model.safetensors", "pytorch_model.bin"),)),
    "openclip-vit-h-14": HubFiles(required=("open_clip_pytorch_model.bin",), patterns=("open_clip_pytorch_model.bin",)),
    "sd-2-inpainting": _DIFFUSERS,
    "sd-2-base": _DIFFUSERS,
    "sdxl-base-1.0": _DIFFUSERS,
}


def hub_files(name: str) -> HubFiles:
    """The file selection for registry entry NAME (Sapiens2 entries share transformers' layout)."""
    if name.startswith("sapiens2-"):
        return _TRANSFORMERS
    if name not in HUB_FILES:
        raise KeyError(f"{name}: no hub file list (not a Hugging Face Hub download)")
    return HUB_FILES[name]
