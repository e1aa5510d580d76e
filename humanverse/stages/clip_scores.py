"""Aesthetic and NSFW screening on the CLIP ViT-L/14 embedding, with scales that cannot be misread.

The LAION aesthetic score is a rating on a 1–10 scale; HumanVerse keeps images scoring at least 4.5 on it.
Tools that also offer 0–1 scores make people pass 0.45 where 4.5 was meant, which silently keeps
everything, so `aesthetic.min_score` refuses anything outside 1–10 and says why.

Where a score comes from (`*.source`):
- `metadata` trusts the source's column (mapped by the readers to `aesthetic` and `punsafe`); a row
  without it is rejected as `aesthetic_missing` / `nsfw_missing`.
- `model` always computes it from the image.
- `auto` (default) uses the column when the row has a finite value and computes otherwise.
Only LAION's `punsafe` counts as an NSFW column: it comes from the same CLIP detector, whereas COYO's
`nsfw_score_opennsfw2` is another model on another scale.

CLIP runs only for rows that need a computed score (or when embeddings are kept), in one batch per
micro-batch. The stage belongs after the person rule so that only survivors pay for ViT-L/14; `clip.place`
records that choice so that the benchmark can compare it with running before detection.

Per sample it writes `scores`: aesthetic (1–10), aesthetic_source, nsfw (0–1), nsfw_source, where a source
is `metadata:<column>` or `model:<weights file>@<clip arch>`; and, with `clip.keep_embeddings`, the parquet
column `clip_embedding`: the L2-normalised embedding as 768 float16 values, for kept samples only.
Reasons: nsfw_high is checked before aesthetic_low (safety first); both scores are recorded either way.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
from pydantic import Field, field_validator

from humanverse.models.clip import clip_published
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.stages.backend_table import Backend

if TYPE_CHECKING:  # the model modules import torch: only actors that run CLIP load them
    from humanverse.models.clip.clip_embedder import ClipImageEmbedder

Source = Literal["auto", "metadata", "model"]

AESTHETIC_LOW = "aesthetic_low"
AESTHETIC_MISSING = "aesthetic_missing"
NSFW_HIGH = "nsfw_high"
NSFW_MISSING = "nsfw_missing"
EMBEDDING_COLUMN = "clip_embedding"


def _as_float(value: Any) -> float | None:
    """A finite float, or None for missing, null, NaN, booleans and non-numbers."""
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


class ClipConfig(Section):
    """The CLIP image tower that feeds both heads, and where the stage sits in the pipeline."""

    arch: str = clip_published.CLIP_ARCH
    """open_clip architecture name; the heads need OpenAI ViT-L/14 (QuickGELU). Tests and demo: humanverse-tiny-clip."""
    weights: str = "hf:timm/vit_large_patch14_clip_224.openai"
    """Directory (relative to the models dir, absolute, or hf:org/name in the local HF cache) holding weights_file."""
    weights_file: str = clip_published.CLIP_FILE
    keep_embeddings: bool = False
    """Store the fp16 embedding of each kept sample in the parquet sidecar (column clip_embedding)."""
    place: Literal["after_person", "before_person"] = "after_person"
    """after_person: only people photos pay for CLIP. before_person: CLIP filters before detection."""
    resources: Resources = Resources(batch_size=16)


class AestheticConfig(Section):
    """LAION improved aesthetic predictor, on its native 1–10 scale."""

    enabled: bool = True
    min_score: float = Field(4.5, ge=1.0, le=10.0)
    """Keep samples scoring >= this on the LAION 1–10 scale (HumanVerse: 4.5). Not a 0–1 value."""
    source: Source = "auto"
    weights: str = "improved-aesthetic-predictor"
    weights_file: str = clip_published.AESTHETIC_FILE

    @field_validator("min_score", mode="before")
    @classmethod
    def _on_the_1_to_10_scale(cls, value: Any) -> Any:
        x = _as_float(value)
        if x is not None and not 1.0 <= x <= 10.0:
            hint = f" It looks like a 0–1 value: did you mean {x * 10:g}?" if 0.0 <= x < 1.0 else ""
            raise ValueError(
                f"aesthetic.min_score={value!r} is outside the LAION aesthetic scale, which runs from 1 to 10 "
                f"(HumanVerse keeps >= 4.5).{hint}"
            )
        return value


class NSFWConfig(Section):
    """LAION's CLIP-based NSFW detector (probability 0–1, the scale of LAION's punsafe)."""

    enabled: bool = True
    max_score: float = Field(0.5, ge=0.0, le=1.0)
    """Reject samples whose NSFW probability is above this (0–1). Stable Diffusion 2 filtered LAION at punsafe 0.1."""
    source: Source = "auto"
    weights: str = "clip-based-nsfw-detector"
    weights_file: str = clip_published.NSFW_FILE

    @field_validator("max_score", mode="before")
    @classmethod
    def _a_probability(cls, value: Any) -> Any:
        x = _as_float(value)
        if x is not None and not 0.0 <= x <= 1.0:
            hint = f" Did you mean {x / 100:g}?" if 1.0 < x <= 100.0 else ""
            raise ValueError(f"nsfw.max_score={value!r} must be a probability between 0 and 1.{hint}")
        return value


class ClipScoresConfig(Section):
    """What the stage needs; the user-facing keys are clip.*, aesthetic.* and nsfw.*."""

    clip: ClipConfig = ClipConfig()
    aesthetic: AestheticConfig = AestheticConfig()
    nsfw: NSFWConfig = NSFWConfig()

    @property
    def resources(self) -> Resources:
        return self.clip.resources


def _computes(head: AestheticConfig | NSFWConfig) -> bool:
    return head.enabled and head.source != "metadata"


def models_loaded(cfg: ClipScoresConfig) -> list[str]:
    """The rows of BACKENDS this configuration loads: CLIP when any head computes or embeddings are kept."""
    heads = [name for name, head in (("aesthetic", cfg.aesthetic), ("nsfw", cfg.nsfw)) if _computes(head)]
    return (["clip_embedding"] if cfg.clip.keep_embeddings or heads else []) + heads


def _file(section: str):
    def files(cfg: ClipScoresConfig, models_dir: str | None) -> list[Path]:
        own = getattr(cfg, section)
        return [locate(own.weights, [own.weights_file], models_dir) / own.weights_file]
    return files


def _model_source(cfg: ClipScoresConfig, file: str) -> str:
    return f"model:{Path(file).stem}@{cfg.clip.arch}"


def _load_clip(cfg: ClipScoresConfig, files: list[Path], stage: Stage) -> ClipImageEmbedder:
    from humanverse.core.device import autocast_dtype
    from humanverse.models.clip import clip_embedder

    device = stage.use_device()
    return clip_embedder.ClipImageEmbedder.load(cfg.clip.arch, files[0], device=device, dtype=autocast_dtype(device))


def _load_aesthetic(cfg: ClipScoresConfig, files: list[Path], stage: Stage):
    from humanverse.models.clip import aesthetic_mlp

    return aesthetic_mlp.load_aesthetic_mlp(files[0], stage.use_device())


def _load_nsfw(cfg: ClipScoresConfig, files: list[Path], stage: Stage):
    from humanverse.models.clip import nsfw_head

    return nsfw_head.load_nsfw_head(files[0], stage.use_device())


def _build_tiny_clip(root: Path):
    from humanverse.models.clip import clip_embedder

    return clip_embedder.build_demo_weights(root / "tiny-clip", arch=clip_embedder.TINY_ARCH)


def _build_aesthetic(root: Path):
    from humanverse.models.clip import aesthetic_mlp

    return aesthetic_mlp.build_demo_weights(root / "aesthetic")


def _build_nsfw(root: Path):
    from humanverse.models.clip import nsfw_head

    return nsfw_head.build_demo_weights(root / "nsfw")


BACKENDS: dict[str, Backend] = {
    "clip_embedding": Backend(
        "clip_embedding", ("clip-vit-l-14-openai",), weights=lambda c: c.clip.weights, files=_file("clip"),
        load=_load_clip, label=lambda c: f"open_clip:{c.clip.arch}:{c.clip.weights}/{c.clip.weights_file}",
        shown=lambda c: c.clip.arch, demo="random",
        demo_build=("CLIP image tower (tiny, open_clip layout)", _build_tiny_clip),
    ),
    "aesthetic": Backend(
        "aesthetic", ("laion-aesthetic-v2",), weights=lambda c: c.aesthetic.weights, files=_file("aesthetic"),
        load=_load_aesthetic, label=lambda c: _model_source(c, c.aesthetic.weights_file),
        shown=lambda c: c.aesthetic.weights, demo="random",
        demo_build=("aesthetic MLP (LAION layout)", _build_aesthetic),
    ),
    "nsfw": Backend(
        "nsfw", ("laion-clip-nsfw",), weights=lambda c: c.nsfw.weights, files=_file("nsfw"),
        load=_load_nsfw, label=lambda c: _model_source(c, c.nsfw.weights_file), shown=lambda c: c.nsfw.weights,
        demo="random", demo_build=("NSFW head (LAION layout)", _build_nsfw),
    ),
}
"""The stage's three models (stages/backend_table.py rows), by the annotation each makes."""


class CLIPScoreStage(Stage):
    """One CLIP load per actor; scores a micro-batch in one forward pass, then applies both thresholds."""

    name: ClassVar[str] = "clip_scores"
    backends = BACKENDS

    def __init__(self, cfg: ClipScoresConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self.embedder: ClipImageEmbedder | None = None
        self.aesthetic_model = None
        self.nsfw_model = None
        self.device = "cpu"

    # --- what runs where -------------------------------------------------------------------------
    @classmethod
    def used_backends(cls, cfg: ClipScoresConfig) -> list[tuple[str, Backend]]:
        return [("clip/aesthetic/nsfw", BACKENDS[name]) for name in models_loaded(cfg)]

    def _weights_path(self, model: str) -> Path:
        return BACKENDS[model].files(self.cfg, self.models_dir)[0]

    def _model_source(self, file: str) -> str:
        return _model_source(self.cfg, file)

    # --- Stage contract --------------------------------------------------------------------------
    def weight_checks(self):
        return [lambda model=model: self._weights_path(model) for model in models_loaded(self.cfg)]

    def setup(self) -> None:
        self.use_device()
        loaded = {m: BACKENDS[m].load(self.cfg, [self._weights_path(m)], self) for m in models_loaded(self.cfg)}
        self.embedder = loaded.get("clip_embedding")
        self.aesthetic_model = loaded.get("aesthetic")
        self.nsfw_model = loaded.get("nsfw")
        if self.aesthetic_model is not None:
            _check_dim(self.embedder, self.aesthetic_model.input_size, "aesthetic")
        if self.nsfw_model is not None:
            _check_dim(self.embedder, self.nsfw_model.linear_1.in_features, "nsfw")

    def process(self, batch: list[Sample]) -> None:
        aes, nsfw = self.cfg.aesthetic, self.cfg.nsfw
        pending: list[tuple[Sample, float | None, float | None]] = []
        for s in batch:
            a_meta = _as_float(s.meta.get("aesthetic")) if aes.enabled and aes.source != "model" else None
            n_meta = _as_float(s.meta.get("punsafe")) if nsfw.enabled and nsfw.source != "model" else None
            if nsfw.enabled and nsfw.source == "metadata" and n_meta is None:
                s.reject(self.name, NSFW_MISSING)
            elif aes.enabled and aes.source == "metadata" and a_meta is None:
                s.reject(self.name, AESTHETIC_MISSING)
            else:
                pending.append((s, a_meta, n_meta))

        to_embed = [p for p in pending if self._wants_embedding(p[1], p[2])]
        for s, _, _ in to_embed:
            if s.image is None:
                s.fail(self.name, f"{self.name}_error:no_image")
        to_embed = [p for p in to_embed if p[0].alive]
        embeddings = self.embedder.embed([s.image for s, _, _ in to_embed]) if to_embed else None
        aes_scores, nsfw_scores = self._heads(embeddings)

        row = {id(s): i for i, (s, _, _) in enumerate(to_embed)}
        for s, a_meta, n_meta in pending:
            if not s.alive:
                continue
            i = row.get(id(s))
            self._record(s, a_meta, n_meta, aes_scores, nsfw_scores, i)
            if self.cfg.clip.keep_embeddings and i is not None:
                s.columns[EMBEDDING_COLUMN] = embeddings[i].astype(np.float16)
            if nsfw.enabled and s.scores["nsfw"] > nsfw.max_score:
                s.reject(self.name, NSFW_HIGH)
            elif aes.enabled and s.scores["aesthetic"] < aes.min_score:
                s.reject(self.name, AESTHETIC_LOW)

    def _record(self, s: Sample, a_meta, n_meta, aes_scores, nsfw_scores, i: int | None) -> None:
        """Each enabled score with its source: the metadata value when chosen, else row i of the model output."""
        aes, nsfw = self.cfg.aesthetic, self.cfg.nsfw
        if aes.enabled:
            if a_meta is not None:
                s.scores["aesthetic"], s.scores["aesthetic_source"] = a_meta, "metadata:aesthetic"
            else:
                s.scores["aesthetic"] = float(aes_scores[i])
                s.scores["aesthetic_source"] = self._model_source(aes.weights_file)
                self.record_models(s, "aesthetic")
        if nsfw.enabled:
            if n_meta is not None:
                s.scores["nsfw"], s.scores["nsfw_source"] = n_meta, "metadata:punsafe"
            else:
                s.scores["nsfw"] = float(nsfw_scores[i])
                s.scores["nsfw_source"] = self._model_source(nsfw.weights_file)
                self.record_models(s, "nsfw")

    def _wants_embedding(self, a_meta: float | None, n_meta: float | None) -> bool:
        aes, nsfw = self.cfg.aesthetic, self.cfg.nsfw
        return self.cfg.clip.keep_embeddings or (aes.enabled and a_meta is None) or (nsfw.enabled and n_meta is None)

    def _heads(self, embeddings: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Both heads on the same normalised embeddings, in fp32 (they are tiny; precision is free)."""
        if embeddings is None:
            return None, None
        import torch

        x = torch.from_numpy(embeddings).to(self.device)
        with torch.inference_mode():
            aes = self.aesthetic_model(x).float().cpu().numpy() if self.aesthetic_model is not None else None
            nsfw = self.nsfw_model(x).float().cpu().numpy() if self.nsfw_model is not None else None
        return aes, nsfw

    # --- provenance ------------------------------------------------------------------------------
    def model_ids(self) -> dict[str, str]:
        """'<model id> sha256:<hex>' per model this configuration loads, for run.json (computed once)."""
        cached = self.__dict__.get("_model_ids")
        if cached is not None:
            return cached
        ids = {m: BACKENDS[m].run_id(self.cfg, [self._weights_path(m)]) for m in models_loaded(self.cfg)}
        self.__dict__["_model_ids"] = ids
        return ids

    def reason_descriptions(self) -> dict[str, str]:
        """What each reason code means, thresholds and scales included, for stats.json and the funnel."""
        aes, nsfw = self.cfg.aesthetic, self.cfg.nsfw
        return {
            AESTHETIC_LOW: f"LAION aesthetic score (1–10 scale) < aesthetic.min_score = {aes.min_score:g}",
            AESTHETIC_MISSING: "aesthetic.source = metadata but the row has no aesthetic column",
            NSFW_HIGH: f"NSFW probability (0–1, LAION CLIP detector / punsafe) > nsfw.max_score = {nsfw.max_score:g}",
            NSFW_MISSING: "nsfw.source = metadata but the row has no punsafe column",
        }


def _check_dim(embedder: ClipImageEmbedder | None, expected: int, head: str) -> None:
    if embedder is not None and embedder.dim != expected:
        raise ValueError(
            f"clip.arch gives {embedder.dim}-d embeddings but the {head} head expects {expected}-d "
            "(both LAION heads were trained on OpenAI CLIP ViT-L/14)"
        )
