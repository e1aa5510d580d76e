"""Random weights for the CLIP tower and both heads, in the published formats and file names (tests, demos)."""

from __future__ import annotations

from pathlib import Path


def build_demo_weights(models_dir: Path, clip_weights: str, clip_arch: str, aesthetic_weights: str,
                       nsfw_weights: str) -> None:
    """Write each model where a config naming these weights paths looks for it under models_dir."""
    if any(spec.startswith("hf:") for spec in (clip_weights, aesthetic_weights, nsfw_weights)):
        raise ValueError("demo weights go under the models directory: use relative weights paths, not hf: specs")
    from humanverse.models.clip import aesthetic_mlp, clip_embedder, nsfw_head

    root = Path(models_dir)
    clip_embedder.build_demo_weights(root / clip_weights, arch=clip_arch)
    aesthetic_mlp.build_demo_weights(root / aesthetic_weights)
    nsfw_head.build_demo_weights(root / nsfw_weights)
