"""Every frame-dependent output any stage declares (core/frame.py), for outpaint restore to map back.

Found, not listed: the stages package's modules are imported once and every Stage subclass is asked for
its `declared_outputs()` at each call (a table-driven stage, like depth, computes them from its rows), so a
new annotator, or a backend added at run time, is covered without an edit here or in restore.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import humanverse.stages
from humanverse.core.frame import DenseMap, Output, PersonBoxes, PersonPoints
from humanverse.core.stage import Stage


@cache
def _import_stages() -> None:
    for info in pkgutil.iter_modules(humanverse.stages.__path__):
        importlib.import_module(f"{humanverse.stages.__name__}.{info.name}")


def _stage_classes(base: type[Stage] = Stage):
    for cls in base.__subclasses__():
        yield cls
        yield from _stage_classes(cls)


def declared() -> list[Output]:
    """Each declared output once (the first declaration of a name wins), in stage-definition order."""
    _import_stages()
    seen: dict[tuple[type, str], Output] = {}
    for cls in _stage_classes():
        for out in cls.declared_outputs():
            key = (DenseMap if isinstance(out, DenseMap) else type(out), getattr(out, "name", None) or out.key)
            seen.setdefault(key, out)
    return list(seen.values())


def dense_map(name: str) -> DenseMap | None:
    return next((o for o in declared() if isinstance(o, DenseMap) and o.name == name), None)


def person_geometry() -> list[PersonPoints | PersonBoxes]:
    """Per-person keypoint sets and boxes, the person keys restore shifts back."""
    return [o for o in declared() if isinstance(o, (PersonPoints, PersonBoxes))]
