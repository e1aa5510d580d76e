"""The curate config: typed sections composed from the stages' own sections, loaded from YAML presets.

Unknown keys and bad values are errors that name the key (pydantic's location path), raised before any
work starts. `--set section.key=value` values are parsed as YAML scalars (yaml.safe_load).
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources as pkg_resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError

from humanverse.annotators.depth_stage import DepthConfig
from humanverse.annotators.normal_stage import NormalConfig
from humanverse.annotators.outpaint_stage import OutpaintConfig
from humanverse.annotators.parts_stage import PartsConfig
from humanverse.annotators.person_detect import DetectConfig
from humanverse.annotators.pose_stage import PoseConfig
from humanverse.config_base import Section, apply_override
from humanverse.filters.clip_scores import (
    AestheticConfig,
    ClipConfig,
    ClipScoresConfig,
    NSFWConfig,
)
from humanverse.filters.metadata import MetadataFilterConfig
from humanverse.filters.person_rule import PersonRuleConfig
from humanverse.filters.resolution import ResolutionConfig
from humanverse.imaging.decode import DecodeConfig
from humanverse.pipeline.stage import Resources
from humanverse.sources.download import DownloadConfig


class ConfigError(ValueError):
    pass


class InputConfig(Section):
    format: Literal["auto", "laion", "coyo", "img2dataset", "folder"] = "auto"
    column_map: dict[str, str] = {}
    """canonical name -> your column, e.g. {url: image_url, caption: alt}."""
    rows_per_task: int = Field(1000, ge=1)
    """Rows of one input per task; a task becomes one output shard and is the unit of resume."""
    dataset: str | None = None
    """Name recorded in each sample's source (default: the detected format)."""


class FetchConfig(Section):
    download: DownloadConfig = DownloadConfig()
    decode: DecodeConfig = DecodeConfig()
    resources: Resources = Resources(num_cpus=1, batch_size=64, actors=2)


class RunConfig(Section):
    """How the run executes; not part of the config digest (changing it never blocks a resume)."""

    task_retries: int = Field(2, ge=0)
    """Extra attempts for a task whose input cannot be read or whose stage cannot start."""
    stall_timeout_s: float = Field(1800, gt=0)
    """Fail the run, naming the stage and task, when no task finishes for this long."""
    num_cpus: int | None = Field(None, ge=1)
    """CPUs of the embedded local Ray (default: all)."""
    object_store_mb: int | None = Field(None, ge=64)
    """Object-store size of the embedded local Ray (default: Ray's own, ~30% of memory)."""
    progress: bool = True


class LayoutConfig(Section):
    """How the GPU annotators map onto Ray actors (bench/RESULTS.md compares the two)."""

    annotators: Literal["per_model", "fused"] = "per_model"
    """per_model: one actor pool per annotator, sized by its own resources; fused: one actor holds all of
    them (fewer object-store hops, one model set per GPU), sized by `fused_resources`."""
    fused_resources: Resources = Resources(num_cpus=1, num_gpus=0, batch_size=8, actors=1)


class CurateConfig(Section):
    demo: bool = False
    """True for presets whose models are untrained: their thresholds are off and the output says so."""
    models_dir: str | None = None
    input: InputConfig = InputConfig()
    metadata: MetadataFilterConfig = MetadataFilterConfig()
    fetch: FetchConfig = FetchConfig()
    resolution: ResolutionConfig = ResolutionConfig()
    detect: DetectConfig = DetectConfig()
    person: PersonRuleConfig = PersonRuleConfig()
    clip: ClipConfig = ClipConfig()
    """OpenAI CLIP ViT-L/14 image embeddings, computed only for survivors (place: after_person)."""
    aesthetic: AestheticConfig = AestheticConfig()
    """LAION improved aesthetic predictor, scale 1-10: min_score 4.5 keeps scores >= 4.5."""
    nsfw: NSFWConfig = NSFWConfig()
    """LAION CLIP NSFW detector, a probability 0-1 (the scale of LAION's punsafe)."""
    outpaint: OutpaintConfig = OutpaintConfig()
    """SD-2-inpainting of truncated people before annotation (mode never|auto|always); see docs/outpainting.md."""
    pose: PoseConfig | None = PoseConfig()
    """Whole-body pose on every kept person; null turns the stage off."""
    depth: DepthConfig | None = DepthConfig()
    normal: NormalConfig | None = NormalConfig()
    parts: PartsConfig | None = None
    """Sapiens2 body-part segmentation (`parts.png`); off unless configured (the sapiens preset turns it on)."""
    layout: LayoutConfig = LayoutConfig()
    run: RunConfig = RunConfig()

    def clip_scores(self) -> ClipScoresConfig:
        return ClipScoresConfig(clip=self.clip, aesthetic=self.aesthetic, nsfw=self.nsfw)

    def digest(self) -> str:
        """What decides whether existing shards are still valid: everything but the run section."""
        data = self.model_dump(mode="json", exclude={"run"})
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def preset_names() -> list[str]:
    folder = pkg_resources.files("humanverse") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml") and not p.name.startswith("train_"))


def load_preset(name: str) -> dict[str, Any]:
    path = pkg_resources.files("humanverse") / "presets" / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
    return yaml.safe_load(path.read_text()) or {}


def load_yaml(path: str | Path) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text())
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        try:
            apply_override(data, item)
        except ValueError as exc:
            raise ConfigError(f"--set: {exc}") from None
    return data


def build(data: dict[str, Any], model: type[Section] = CurateConfig):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {where}: {msg}")
        raise ConfigError("invalid config:\n" + "\n".join(lines)) from None


def resolve(preset: str | None, config_file: str | None, overrides: list[str]) -> CurateConfig:
    if bool(preset) == bool(config_file):
        raise ConfigError("give exactly one of --preset NAME or --config FILE.yaml")
    data = load_preset(preset) if preset else load_yaml(config_file)
    return build(apply_overrides(data, overrides or []))
