"""HumanVerse's person rule: 1-3 detected people covering enough of the image.

The paper says "visible human area > 15%" without saying whether per person or over the union; we record
both (human_area_frac = union of boxes, max_person_area_frac = largest box) and the config picks the rule.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from humanverse.config_base import Section
from humanverse.core.sample import Sample
from humanverse.core.stage import Filter, Resources


class PersonRuleConfig(Section):
    min_persons: int = Field(1, ge=0)
    max_persons: int = Field(3, ge=1)
    min_area_frac: float = Field(0.15, ge=0, le=1)
    area_rule: Literal["union", "largest", "each"] = "union"
    """union: all boxes together; largest: the biggest person; each: every counted person."""
    resources: Resources = Resources(batch_size=1024)

    @model_validator(mode="after")
    def _ordered(self):
        if self.min_persons > self.max_persons:
            raise ValueError(f"person.min_persons ({self.min_persons}) > person.max_persons ({self.max_persons})")
        return self


def union_area(boxes: list[list[float]]) -> float:
    """Exact area of a union of axis-aligned boxes by coordinate compression (no rasterising error)."""
    if not boxes:
        return 0.0
    b = np.asarray(boxes, dtype=np.float64)
    xs = np.unique(np.concatenate([b[:, 0], b[:, 2]]))
    ys = np.unique(np.concatenate([b[:, 1], b[:, 3]]))
    cx0, cx1 = xs[:-1], xs[1:]
    cy0, cy1 = ys[:-1], ys[1:]
    covered = np.zeros((len(cy0), len(cx0)), dtype=bool)
    for x0, y0, x1, y1 in b:
        covered |= (cy0[:, None] >= y0) & (cy1[:, None] <= y1) & (cx0[None, :] >= x0) & (cx1[None, :] <= x1)
    cell = (cy1 - cy0)[:, None] * (cx1 - cx0)[None, :]
    return float((cell * covered).sum())


def area_stats(boxes: list[list[float]], width: int, height: int) -> dict[str, float]:
    image = float(width * height)
    fracs = [max(0.0, (x1 - x0)) * max(0.0, (y1 - y0)) / image for x0, y0, x1, y1 in boxes]
    clipped = [[max(0, x0), max(0, y0), min(width, x1), min(height, y1)] for x0, y0, x1, y1 in boxes]
    return {
        "human_area_frac": union_area(clipped) / image if boxes else 0.0,
        "max_person_area_frac": max(fracs, default=0.0),
        "min_person_area_frac": min(fracs, default=0.0),
    }


class PersonRule(Filter):
    name = "person"

    def __init__(self, cfg: PersonRuleConfig):
        super().__init__(cfg.resources)
        self.cfg = cfg

    def check(self, sample: Sample) -> tuple[bool, str | None]:
        c = self.cfg
        boxes = [p["box"] for p in sample.persons]
        stats = area_stats(boxes, sample.width, sample.height)
        sample.scores.update({"n_persons": len(boxes), **stats})
        if len(boxes) < c.min_persons:
            return False, "no_person" if not boxes else "too_few_persons"
        if len(boxes) > c.max_persons:
            return False, "too_many_persons"
        area = {
            "union": stats["human_area_frac"],
            "largest": stats["max_person_area_frac"],
            "each": stats["min_person_area_frac"],
        }[c.area_rule]
        if area < c.min_area_frac:
            return False, "person_area_small"
        return True, None
