"""Which stages of a config run trained models and which run the tiny random-weight demo models.

Read from the config itself (never a hard-coded list), so the curate banner, the summary and the inspect
report say exactly what a run's annotations are worth. A model path under `demo/` in the models directory
is one of models/demo_weights' untrained builds; every other model is a trained one (published weights, or a
model shipped inside a wheel: OpenCV HOG, MediaPipe). A Sapiens2 model whose section names the arch
`sapiens2-tiny` is a random-weight build too, wherever it lies.
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


def _sapiens_trained(arch: str, weights: str) -> bool:
    return arch != "sapiens2-tiny" and not _is_demo(weights)


def stage_models(cfg: CurateConfig) -> list[StageModel]:
    out: list[StageModel] = []
    d = cfg.detect
    if d.backend == "hog":
        out.append(StageModel("detect", "OpenCV HOG people detector", True))
    elif d.backend == "blazepose":
        # how it measured (bench/ACCURACY.md, issue 27): said where the banner names it, so nobody over-reads it
        out.append(StageModel("detect", "MediaPipe BlazePose person + face detectors; on the kit: recall 0.71 on "
                              "people >= 5% of a photo, precision 0.94, see bench/ACCURACY.md", True))
    else:
        out.append(StageModel("detect", f"ultralytics {d.weights}", not _is_demo(d.weights)))
    if cfg.aesthetic.enabled or cfg.nsfw.enabled or cfg.clip.keep_embeddings:
        out.append(StageModel("clip/aesthetic/nsfw", cfg.clip.arch, not _is_demo(cfg.clip.weights)))
    if cfg.outpaint.mode != "never":
        out.append(StageModel("outpaint", cfg.outpaint.model, not _is_demo(cfg.outpaint.model)))
    if cfg.pose is not None:
        if cfg.pose.backend == "sapiens":
            trained = _sapiens_trained(cfg.pose.sapiens_arch, cfg.pose.sapiens_weights)
            out.append(StageModel("pose", f"{cfg.pose.sapiens_arch} (sapiens)", trained))
        elif cfg.pose.backend == "mediapipe":
            which = "Holistic (BlazePose, face mesh, hands)" if cfg.pose.mediapipe.holistic else "BlazePose"
            out.append(StageModel("pose", f"MediaPipe {which}", True))
        else:
            out.append(StageModel("pose", f"{cfg.pose.arch} ({cfg.pose.backend})", not _is_demo(cfg.pose.weights)))
    if cfg.hands is not None and cfg.hands.refine:
        out.append(StageModel("hands", "MediaPipe Hands refinement", True))
    if cfg.depth is not None:
        paths = {"midas": cfg.depth.midas_weights, "omnidata": cfg.depth.omnidata_weights,
                 "sapiens": cfg.depth.sapiens_weights}
        for name in cfg.depth.models:
            trained = _sapiens_trained(cfg.depth.sapiens_arch, paths[name]) if name == "sapiens" else not _is_demo(paths[name])
            out.append(StageModel(f"depth ({name})", paths[name], trained))
    if cfg.normal is not None:
        if cfg.normal.backend == "sapiens":
            w = cfg.normal.sapiens_weights
            out.append(StageModel("normal", w, _sapiens_trained(cfg.normal.sapiens_arch, w)))
        else:
            out.append(StageModel("normal", cfg.normal.weights, not _is_demo(cfg.normal.weights)))
    if cfg.parts is not None:
        out.append(StageModel("parts", cfg.parts.weights, _sapiens_trained(cfg.parts.arch, cfg.parts.weights)))
    if cfg.mask is not None:
        if cfg.mask.backend == "sapiens":
            out.append(StageModel("mask", cfg.mask.sapiens_weights, not _is_demo(cfg.mask.sapiens_weights)))
        else:
            out.append(StageModel("mask", "MediaPipe selfie segmentation", True))
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
