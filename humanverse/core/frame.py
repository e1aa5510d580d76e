"""The frame contract: what a stage publishes that depends on the image's frame, declared on the stage.

Between the outpaint and outpaint_restore stages a sample's pixels are a larger canvas (`sample.canvas` is
set), and every annotator works in canvas pixels. Outpaint restore maps back what the stages declare, and
nothing else, so a stage says in `Stage.publishes` (or `declared_outputs()` when it depends on a table):
- PersonPoints: person[key] = K x [x, y, score], shifted back; `outside` names the per-point flag restore
  adds for points on the outpainted area, `on_canvas` keeps the canvas copy in outpaint.json;
- PersonBoxes: person[key] = [x0, y0, x1, y1], shifted back;
- PersonValue: a per-person value that does not depend on the frame (left alone);
- DenseMap: a map over the image, handed to Stage.publish_map: encoded at once as the member
  `{name}.png` (+ fields in info[name]) or, on a canvas, kept until restore crops it to the original frame,
  resampling a map at another size by its `resample` (nearest for labels, linear for values, linear then
  renormalised for unit normals).
The base fails a sample on which a stage, on a canvas, wrote a person key or a member it did not declare:
canvas-frame output can never slip into a shard unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Resample = Literal["nearest", "linear", "normals"]


@dataclass(frozen=True)
class PersonPoints:
    key: str
    outside: str | None = None
    on_canvas: bool = False


@dataclass(frozen=True)
class PersonBoxes:
    key: str


@dataclass(frozen=True)
class PersonValue:
    key: str


@dataclass(frozen=True)
class DenseMap:
    name: str
    """Annotation name: the member `{name}.png` and the json key info[name]."""
    resample: Resample
    encode: Callable[[Any], tuple[bytes, dict]]
    """Map -> (PNG bytes per the shard contract, the fields it adds to info[name], e.g. a depth range)."""


Output = PersonPoints | PersonBoxes | PersonValue | DenseMap


def person_keys(outputs) -> set[str]:
    return {o.key for o in outputs if not isinstance(o, DenseMap)}
