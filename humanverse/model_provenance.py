"""Which stages of a config run trained models and which run the tiny random-weight demo models.

Read from the config itself (never a hard-coded list), so the curate banner, the summary and the inspect
report say exactly what a run's annotations are worth. A model path under `demo/` in the models directory
is one of models/demo_weights' untrained builds; every other model is a trained one (published weights, or a
model shipped inside a wheel: OpenCV HOG, MediaPipe).
"""

from __future__ import annotations

from dataclasses import dataclass

from humanverse.config import CurateConfig
from humanverse.models.demo_weights import DEMO_SUBDIR


@dataclass(frozen=True)
class StageModel:
    stage: str
    model: str
    trained: bool


def _is_demo(path: str) -> bool:
    return path.replace("\\", "/").startswith(f"{DEMO_SUBDIR}/")


def stage_models(cfg: CurateConfig) -> list[StageModel]:
    out: list[StageModel] = []
    d = cfg.detect
    if d.backend == "hog":
        out.append(StageModel("detect", "OpenCV HOG people detector", True))
    else:
        out.append(StageModel("detect", f"ultralytics {d.weights}", not _is_demo(d.weights)))
    if cfg.aesthetic.enabled or cfg.nsfw.enabled or cfg.clip.keep_embeddings:
        out.append(StageModel("clip/aesthetic/nsfw", cfg.clip.arch, not _is_demo(cfg.clip.weights)))
    if cfg.outpaint.mode != "never":
        out.append(StageModel("outpaint", cfg.outpaint.model, not _is_demo(cfg.outpaint.model)))
    if cfg.pose is not None:
        if cfg.pose.backend == "mediapipe":
            which = "Holistic (BlazePose, face mesh, hands)" if cfg.pose.mediapipe.holistic else "BlazePose"
            out.append(StageModel("pose", f"MediaPipe {which}", True))
        else:
            out.append(StageModel("pose", f"{cfg.pose.arch} ({cfg.pose.backend})", not _is_demo(cfg.pose.weights)))
    if cfg.depth is not None:
        paths = {"midas": cfg.depth.midas_weights, "omnidata": cfg.depth.omnidata_weights}
        for name in cfg.depth.models:
            out.append(StageModel(f"depth ({name})", paths[name], not _is_demo(paths[name])))
    if cfg.normal is not None:
        out.append(StageModel("normal", cfg.normal.weights, not _is_demo(cfg.normal.weights)))
    if cfg.mask is not None:
        out.append(StageModel("mask", {"mediapipe_selfie": "MediaPipe selfie segmentation"}[cfg.mask.backend], True))
    return out


def provenance_line(cfg: CurateConfig) -> str:
    """'trained: a, b; tiny random weights (output is noise): c, d' for banners and reports."""
    models = stage_models(cfg)
    trained = [f"{m.stage} ({m.model})" for m in models if m.trained]
    random = [m.stage for m in models if not m.trained]
    parts = [f"trained models: {', '.join(trained) or 'none'}"]
    if random:
        parts.append(f"tiny random-weight models, output is noise: {', '.join(random)}")
    return "; ".join(parts)
