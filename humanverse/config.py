"""The curate config: typed sections composed from the stages' own sections, loaded from YAML presets.

Unknown keys and bad values are errors that name the key (pydantic's location path), raised before any
work starts. `--set section.key=value` values are parsed as YAML scalars (yaml.safe_load).
"""

from __future__ import annotations

from importlib import resources as pkg_resources
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from humanverse.stages.depth import DepthConfig
from humanverse.stages.hands import HandsConfig
from humanverse.stages.mask import MaskConfig
from humanverse.stages.normal import NormalConfig
from humanverse.stages.outpaint import OutpaintConfig
from humanverse.stages.parts import PartsConfig
from humanverse.stages.detect import DetectConfig
from humanverse.stages.pose import PoseConfig
from humanverse import config_digest
from humanverse.config_base import ConfigError, Section, apply_overrides, load_yaml, validate
from humanverse.stages.clip_scores import (
    AestheticConfig,
    ClipConfig,
    ClipScoresConfig,
    NSFWConfig,
)
from humanverse.stages.metadata import MetadataFilterConfig
from humanverse.stages.person_rule import PersonRuleConfig
from humanverse.stages.resolution import ResolutionConfig
from humanverse.imaging.decode import DecodeConfig
from humanverse.core.stage import Resources
from humanverse.sources.download import DownloadConfig


class InputConfig(Section):
    format: Literal["auto", "laion", "coyo", "img2dataset", "folder", "hagrid"] = "auto"
    """hagrid: HaGRID's per-gesture annotation json (sources/hagrid.py); never auto-detected."""
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
    tasks_per_actor: int = Field(1, ge=1, le=16)
    """Tasks a fetch actor runs at once on threads (Ray engine): one task's downloads overlap another's decode,
    so fewer actors (processes) keep the cores busy. bench/RESULTS.md section 4 measures it."""


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
    mask: MaskConfig | None = None
    """8-bit person mask (mask.png); off unless a section is given (`--set mask={}` for the defaults)."""
    hands: HandsConfig | None = HandsConfig()
    """Per-person hands from the pose keypoints (or HaGRID's landmarks), n_hands_visible, hand_quality_ok and
    the optional hand_mask.png (docs/hands.md); null turns it off."""
    layout: LayoutConfig = LayoutConfig()
    run: RunConfig = RunConfig()

    @model_validator(mode="after")
    def _hand_mask_has_a_source(self) -> "CurateConfig":
        if self.hands is not None and self.hands.mask != "off":
            need = {"auto": self.mask or self.parts, "parts": self.parts, "person_mask": self.mask}[self.hands.mask]
            if need is None:
                raise ValueError(f"hands.mask={self.hands.mask} needs the mask stage (mask: {{}}) or the parts stage on")
        return self

    def clip_scores(self) -> ClipScoresConfig:
        return ClipScoresConfig(clip=self.clip, aesthetic=self.aesthetic, nsfw=self.nsfw)

    def digest(self) -> str:
        """What decides whether existing shards are still valid: every value but the run section's that differs
        from its default, and OUTPUT_FORMAT (humanverse/config_digest.py)."""
        return config_digest.digest(self, OUTPUT_FORMAT, NOT_DIGESTED)

    def resumes(self, record: dict) -> bool:
        """Whether a run.json (this version's or a legacy one) was written with a config of the same digest."""
        return record.get("config_digest") == self.digest() or config_digest.legacy_record_matches(
            self, record, OUTPUT_FORMAT, NOT_DIGESTED)


OUTPUT_FORMAT = 1
"""Part of the config digest. Bump it when a changed default changes what a run writes (a new field's default
must keep what was written before, or bump it too): every existing run folder then refuses to resume."""
NOT_DIGESTED = frozenset({"run"})


def preset_names() -> list[str]:
    folder = pkg_resources.files("humanverse") / "presets"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml") and not p.name.startswith("train_"))


def preset_path(name: str) -> Path:
    path = pkg_resources.files("humanverse") / "presets" / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown preset {name!r}; presets: {', '.join(preset_names())}")
    return Path(str(path))


def resolve(preset: str | None, config_file: str | None, overrides: list[str]) -> CurateConfig:
    if bool(preset) == bool(config_file):
        raise ConfigError("give exactly one of --preset NAME or --config FILE.yaml")
    data = load_yaml(preset_path(preset) if preset else config_file)
    return validate(CurateConfig, apply_overrides(data, overrides or []))
