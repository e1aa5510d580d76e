"""Which stages run, in which order, grouped into Ray operators (cheapest rejections first, DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass

from humanverse.annotators.person_detect import PersonDetectStage
from humanverse.config import CurateConfig
from humanverse.filters.metadata import MetadataFilter
from humanverse.filters.person_rule import PersonRule
from humanverse.filters.resolution import ResolutionFilter
from humanverse.imaging.decode_stage import DecodeStage
from humanverse.model_files import MissingModelFiles
from humanverse.pipeline.stage import Resources, Stage
from humanverse.sources.fetch_stage import FetchStage


@dataclass
class StageGroup:
    """Stages that share one Ray actor pool; the group's resources size the pool."""

    name: str
    stages: list[Stage]
    resources: Resources


def build_stage_groups(cfg: CurateConfig, allow_private_urls: bool = False) -> list[StageGroup]:
    """Constructing stages here (on the driver) checks model files before any work starts; every missing
    file is named in one error, so a user fixes the models directory in one go."""
    missing: list[str] = []

    def make(stage_cls, *args):
        try:
            stage = stage_cls(*args)
            stage.check_models()
            return stage
        except MissingModelFiles as exc:
            missing.append(str(exc))
            return None

    groups = _groups(cfg, allow_private_urls, make)
    if missing:
        raise MissingModelFiles("\n".join(missing))
    return groups


def _groups(cfg: CurateConfig, allow_private_urls: bool, make) -> list[StageGroup]:
    download = cfg.fetch.download
    if allow_private_urls and not download.allow_private_urls:
        download = download.model_copy(update={"allow_private_urls": True})
    fetch_res = cfg.fetch.resources
    clip = clip_group(cfg, make)
    groups: list[StageGroup] = [
        StageGroup(
            "fetch",
            [
                MetadataFilter(metadata_config(cfg)),
                FetchStage(download, fetch_res),
                DecodeStage(cfg.fetch.decode, fetch_res),
                ResolutionFilter(cfg.resolution),
            ],
            fetch_res,
        ),
        StageGroup(
            "detect",
            [make(PersonDetectStage, cfg.detect, cfg.models_dir), PersonRule(cfg.person)],
            cfg.detect.resources,
        ),
    ]
    if clip is not None:
        groups.insert(1 if cfg.clip.place == "before_person" else 2, clip)
    groups += annotator_groups(cfg, make)
    return groups


def metadata_config(cfg: CurateConfig):
    """Where the aesthetic score may come from metadata, apply its cut before anything is downloaded."""
    aes = cfg.aesthetic
    if cfg.metadata.min_aesthetic is None and aes.enabled and aes.source != "model":
        return cfg.metadata.model_copy(update={"min_aesthetic": aes.min_score})
    return cfg.metadata


def clip_group(cfg: CurateConfig, make) -> StageGroup | None:
    """Aesthetic + NSFW on CLIP embeddings; by default after the person rule, so only survivors pay."""
    from humanverse.filters.clip_scores import CLIPScoreStage

    if not (cfg.aesthetic.enabled or cfg.nsfw.enabled or cfg.clip.keep_embeddings):
        return None
    stage = make(CLIPScoreStage, cfg.clip_scores(), cfg.models_dir)
    return None if stage is None else StageGroup(stage.name, [stage], cfg.clip.resources)


def annotator_groups(cfg: CurateConfig, make) -> list[StageGroup]:
    """The heavy annotators, which only ever see samples that survived every filter. With outpainting on,
    they run on the canvas, and outpaint_restore maps everything back after the last of them."""
    from humanverse.annotators.depth_stage import DepthStage
    from humanverse.annotators.normal_stage import NormalStage
    from humanverse.annotators.outpaint_restore import OutpaintRestoreStage
    from humanverse.annotators.outpaint_stage import OutpaintStage
    from humanverse.annotators.parts_stage import PartsStage
    from humanverse.annotators.pose_stage import PoseStage

    outpainting = cfg.outpaint.mode != "never"
    stages: list[Stage] = [make(OutpaintStage, cfg.outpaint, cfg.models_dir)] if outpainting else []
    if cfg.pose is not None:
        stages.append(make(PoseStage, cfg.pose, cfg.models_dir))
    if cfg.depth is not None:
        stages.append(make(DepthStage, cfg.depth, cfg.models_dir))
    if cfg.normal is not None:
        stages.append(make(NormalStage, cfg.normal, cfg.models_dir))
    if cfg.parts is not None:
        stages.append(make(PartsStage, cfg.parts, cfg.models_dir))
    stages = [s for s in stages if s is not None]  # a missing model is reported by build_stage_groups
    if not stages:
        return []
    restore = [OutpaintRestoreStage(cfg.outpaint, cfg.models_dir)] if outpainting else []
    if cfg.layout.annotators == "fused":
        return [StageGroup("annotate", stages + restore, cfg.layout.fused_resources)]
    groups = [StageGroup(s.name, [s], s.resources) for s in stages]
    groups[-1].stages.extend(restore)  # cheap CPU work: no extra hop between actors
    return groups