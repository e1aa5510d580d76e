"""Which stages run, in which order, grouped into Ray operators (cheapest rejections first, DESIGN §3)."""

from __future__ import annotations

from dataclasses import dataclass

from humanverse.annotators.person_detect import PersonDetectStage
from humanverse.config import CurateConfig
from humanverse.filters.metadata import MetadataFilter
from humanverse.filters.person_rule import PersonRule
from humanverse.filters.resolution import ResolutionFilter
from humanverse.imaging.decode_stage import DecodeStage
from humanverse.pipeline.stage import Resources, Stage
from humanverse.sources.fetch_stage import FetchStage


@dataclass
class StageGroup:
    """Stages that share one Ray actor pool; the group's resources size the pool."""

    name: str
    stages: list[Stage]
    resources: Resources


def metadata_config(cfg: CurateConfig):
    return cfg.metadata


def build_stage_groups(cfg: CurateConfig, allow_private_urls: bool = False) -> list[StageGroup]:
    """Constructing stages here (on the driver) checks model files before any work starts."""
    download = cfg.fetch.download
    if allow_private_urls and not download.allow_private_urls:
        download = download.model_copy(update={"allow_private_urls": True})
    fetch_res = cfg.fetch.resources
    groups = [
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
            [PersonDetectStage(cfg.detect, cfg.models_dir), PersonRule(cfg.person)],
            cfg.detect.resources,
        ),
    ]
    return groups


def stage_names(groups: list[StageGroup]) -> list[str]:
    return [s.name for g in groups for s in g.stages]
