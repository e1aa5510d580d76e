"""Which samples are worth outpainting: those with a kept person cut by the image border.

Outpainting dominates annotation cost (HyperHuman), so `auto` spends it only where it can add a body part
the pose, depth and normal models would otherwise never see. The rule uses the detection boxes alone: it
is free, and a person whose box does not reach a border is whole inside the image. A second signal (lower
body keypoints missing in a first pose pass) is deliberately not used: it would run whole-body pose twice
per image, and a person cut at the border already has a box touching it, so it would rarely add a case.
"""

from __future__ import annotations

from typing import Any, Literal

from humanverse.imaging.outpaint_canvas import SIDES

OutpaintMode = Literal["never", "auto", "always"]


def truncated_sides(
    persons: list[dict[str, Any]], width: int, height: int, border_tol_px: float = 2
) -> tuple[str, ...]:
    """The image borders (in SIDES order) touched by at least one person box, within border_tol_px."""
    touched = set()
    for person in persons:
        x0, y0, x1, y1 = person["box"]
        if x0 <= border_tol_px:
            touched.add("left")
        if y0 <= border_tol_px:
            touched.add("top")
        if x1 >= width - border_tol_px:
            touched.add("right")
        if y1 >= height - border_tol_px:
            touched.add("bottom")
    return tuple(side for side in SIDES if side in touched)


def needs_outpaint(
    persons: list[dict[str, Any]], width: int, height: int, mode: OutpaintMode, border_tol_px: float = 2
) -> tuple[bool, str]:
    """(outpaint?, reason) - the reason goes to json so a reader can see why a sample was or was not grown."""
    if mode == "never":
        return False, "mode_never"
    if mode == "always":
        return True, "mode_always"
    if mode != "auto":
        raise ValueError(f"unknown outpaint mode {mode!r}")
    if not persons:
        return False, "no_persons"
    sides = truncated_sides(persons, width, height, border_tol_px)
    if not sides:
        return False, "not_truncated"
    return True, "truncated:" + ",".join(sides)
