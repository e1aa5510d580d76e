"""`humanverse eval --offline`: try the harness without any published weights.

Like curate's demo preset, it builds tiny random-weight metric networks on first use (the real InceptionV3
architecture, a tiny open_clip CLIP, a tiny ViTPose), in their published formats, under
MODELS_DIR/demo/eval-random, and loads them through the same code as the real ones. Every figure they give is
meaningless, so metrics.json and the HTML say so (RANDOM_LABEL).
"""

from __future__ import annotations

from pathlib import Path

from filelock import FileLock

from humanverse.eval.config import INCEPTION_SPEC, EvalConfig
from humanverse.models.demo_weights import DEMO_SUBDIR
from humanverse.models.files import models_dir

OFFLINE_SUBDIR = "eval-random"
RANDOM_LABEL = ("OFFLINE: random-weight metric networks (InceptionV3, tiny CLIP, tiny ViTPose); "
                "FID, KID, FID-CLIP, CLIP score and PCK mean nothing")
_VERSION = "1"


def offline_models(configured_dir: str | None) -> Path:
    """Build the random metric networks once (concurrent callers wait on a lock); returns their folder."""
    from humanverse.eval.image_features import build_random_inception
    from humanverse.models.clip.clip_embedder import TINY_ARCH, build_demo_weights
    from humanverse.models.pose.pose_mmpose import build_demo_weights as build_pose

    root = models_dir(configured_dir) / DEMO_SUBDIR / OFFLINE_SUBDIR
    marker = root / f".built-v{_VERSION}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if not marker.exists():
            build_random_inception(root / INCEPTION_SPEC)
            build_demo_weights(root / "tiny-clip", arch=TINY_ARCH)
            build_pose(root)
            marker.write_text("random-weight metric networks for `humanverse eval --offline`; not trained\n")
    return root


def offline_config(cfg: EvalConfig) -> EvalConfig:
    """cfg with its metric networks replaced by the random ones (64-d Inception features keep FID fast)."""
    from humanverse.models.clip.clip_embedder import TINY_ARCH
    from humanverse.models.pose.pose_mmpose import DEMO_WEIGHTS

    root = offline_models(cfg.models_dir)
    pose = cfg.pose.pose.model_copy(update={"backend": "mmpose", "arch": "tiny", "weights": DEMO_WEIGHTS,
                                            "flip_test": False})
    return cfg.model_copy(update={
        "models_dir": str(root),
        "features": cfg.features.model_copy(update={"inception_weights": INCEPTION_SPEC, "clip_arch": TINY_ARCH,
                                                    "clip_weights": "tiny-clip", "inception_dims": 64}),
        "pose": cfg.pose.model_copy(update={"pose": pose}),
    })
