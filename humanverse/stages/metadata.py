"""Reject on metadata columns before anything is downloaded: the cheapest rejection there is."""

from __future__ import annotations

from pydantic import Field

from humanverse.config_base import Section
from humanverse.core.sample import Sample
from humanverse.core.stage import Filter, Resources


class MetadataFilterConfig(Section):
    min_width: int = Field(200, ge=0)
    """Declared width (WIDTH / width column); rows without it pass and are checked after decode."""
    min_height: int = Field(200, ge=0)
    max_punsafe: float | None = Field(0.5, ge=0, le=1)
    """LAION punsafe (CLIP NSFW probability); None disables."""
    max_pwatermark: float | None = Field(0.8, ge=0, le=1)
    drop_nsfw_labels: list[str] = ["NSFW"]
    """LAION-400M's NSFW column labels to drop (UNLIKELY / UNSURE / NSFW)."""
    min_aesthetic: float | None = Field(None, ge=1, le=10)
    """Pre-download cut on a metadata aesthetic column (1-10 scale); the curate config fills it from
    aesthetic.min_score when aesthetic.source allows metadata."""
    resources: Resources = Resources(batch_size=1024)


class MetadataFilter(Filter):
    name = "metadata"

    def __init__(self, cfg: MetadataFilterConfig):
        super().__init__(cfg.resources)
        self.cfg = cfg

    def check(self, sample: Sample) -> tuple[bool, str | None]:
        m, c = sample.meta, self.cfg
        if not sample.source.get("url") and sample.image_bytes is None:
            return False, "no_url"
        w, h = _number(m.get("width")), _number(m.get("height"))
        if (w is not None and w < c.min_width) or (h is not None and h < c.min_height):
            return False, "declared_too_small"
        punsafe = _number(m.get("punsafe"))
        if c.max_punsafe is not None and punsafe is not None and punsafe > c.max_punsafe:
            return False, "punsafe_high"
        pwm = _number(m.get("pwatermark"))
        if c.max_pwatermark is not None and pwm is not None and pwm > c.max_pwatermark:
            return False, "watermark_high"
        if m.get("nsfw_label") in c.drop_nsfw_labels:
            return False, "nsfw_label"
        aesthetic = _number(m.get("aesthetic"))
        if c.min_aesthetic is not None and aesthetic is not None and aesthetic < c.min_aesthetic:
            return False, "aesthetic_low"
        return True, None


def _number(value) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
