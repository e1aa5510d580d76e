"""Tiny untrained models for the demo preset, built offline on first use under MODELS_DIR/demo.

Each is a real architecture (scaled down) with random weights, written in its published file format and
loaded by the same production code as the real weights. Their outputs mean nothing; the demo says so.
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock

from humanverse.models.files import models_dir

DEMO_SUBDIR = "demo"
_VERSION = "4"  # 4: the NSFW head is the imported safetensors with its categorical lookup


def _builders():
    from humanverse.models.clip import aesthetic_mlp, clip_embedder, nsfw_head
    from humanverse.models.dense import dpt_midas, omnidata
    from humanverse.models.inpaint import sd_inpaint
    from humanverse.models.pose import pose_mmpose

    return [
        ("CLIP image tower (tiny, open_clip layout)",
         lambda root: clip_embedder.build_demo_weights(root / "tiny-clip", arch=clip_embedder.TINY_ARCH)),
        ("aesthetic MLP (LAION layout)", lambda root: aesthetic_mlp.build_demo_weights(root / "aesthetic")),
        ("NSFW head (LAION layout)", lambda root: nsfw_head.build_demo_weights(root / "nsfw")),
        ("outpainting (tiny SD inpainting pipeline, diffusers layout)",
         lambda root: sd_inpaint.build_demo_weights(root / "tiny-sd-inpaint")),
        ("pose (tiny ViTPose, mmpose layout)", pose_mmpose.build_demo_weights),
        ("depth (tiny DPT-hybrid MiDaS, HF layout)", dpt_midas.build_demo_weights),
        ("depth + normal (tiny Omnidata DPT)", omnidata.build_demo_weights),
    ]


def ensure_demo_models(configured_dir: str | None, say=print) -> Path:
    """Build whatever is missing (once; concurrent callers wait on a lock) and return the demo folder."""
    root = models_dir(configured_dir) / DEMO_SUBDIR
    marker = root / f".built-v{_VERSION}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if marker.exists():
            return root
        for what, build in _builders():
            say(f"building untrained demo model: {what}")
            build(root)
        marker.write_text("tiny random-weight models for the demo preset; not trained\n")
    return root
