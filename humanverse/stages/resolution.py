"""Reject images under the minimum size, on the decoded (upright) size rather than declared metadata."""

from __future__ import annotations

from pydantic import Field

from humanverse.config_base import Section
from humanverse.core.sample import Sample
from humanverse.core.stage import Filter, Resources


class ResolutionConfig(Section):
    min_width: int = Field(200, ge=1)
    min_height: int = Field(200, ge=1)
    resources: Resources = Resources(batch_size=1024)


class ResolutionFilter(Filter):
    name = "resolution"

    def __init__(self, cfg: ResolutionConfig):
        super().__init__(cfg.resources)
        self.cfg = cfg

    def check(self, sample: Sample) -> tuple[bool, str | None]:
        if sample.width is None or sample.height is None:
            return False, "not_decoded"
        if sample.width < self.cfg.min_width or sample.height < self.cfg.min_height:
            return False, "too_small"
        return True, None
