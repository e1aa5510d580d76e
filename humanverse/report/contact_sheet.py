"""The contact sheet: for each sampled kept row, its image with person boxes and the whole-body skeleton,
beside its depth and normal maps when the shard has them.

Drawing happens at thumbnail size (boxes and keypoints scaled down first), so lines stay visible however
large the original photo is. The skeleton comes from humanverse.report.visualize: mmpose's own
visualiser and COCO-WholeBody metainfo when mmpose is installed.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import numpy as np

from humanverse.report.visualize import depth_colormap, draw_pose, normal_map
from humanverse.report.inspect import KeptSample
from humanverse.report.thumbnails import (
    decode_untrusted,
    fit_scale,
    jpeg_data_uri,
    resize_rgb,
)
from humanverse.shards.encoding import decode_depth16, decode_normal


@dataclass
class SheetCell:
    key: str
    task_id: str
    caption: str
    facts: dict[str, str]
    panels: list[tuple[str, str]] = field(default_factory=list)  # (title, data URI)


def skeleton_drawer() -> str:
    if importlib.util.find_spec("mmpose") is not None:
        return "mmpose PoseLocalVisualizer, COCO-WholeBody metainfo"
    return "keypoint dots by body part (mmpose not installed)"


def build_cells(samples: list[KeptSample]) -> list[SheetCell]:
    return [cell for cell in (_cell(s) for s in samples) if cell is not None]


def _cell(sample: KeptSample) -> SheetCell | None:
    meta = sample.meta
    rgb = decode_untrusted(sample.members.get("jpg", b""))
    if rgb is None:
        return None
    h, w = rgb.shape[:2]
    scale = fit_scale(w, h)
    thumb = resize_rgb(rgb, scale)
    # keypoints and boxes are in original-image pixels (json width/height); map them onto the thumbnail
    sx = thumb.shape[1] / float(meta.get("width") or w)
    sy = thumb.shape[0] / float(meta.get("height") or h)
    persons = [_scaled_person(p, sx, sy) for p in meta.get("persons", [])]
    has_pose = any(p.get("keypoints") for p in persons)
    panels = [("pose + boxes" if has_pose else "boxes", jpeg_data_uri(draw_pose(thumb, persons, radius=2, thickness=1)))]
    if "depth.png" in sample.members:
        depth = resize_rgb(depth_colormap(decode_depth16(sample.members["depth.png"])), scale)
        panels.append(("depth (turbo: near = red)", jpeg_data_uri(depth)))
    if "normal.png" in sample.members:
        normal = resize_rgb(normal_map(decode_normal(sample.members["normal.png"])), scale)
        panels.append(("normal", jpeg_data_uri(normal)))
    facts = {
        "size": f"{meta.get('width')}×{meta.get('height')}",
        "persons": str(meta.get("n_persons", len(persons))),
        "human area": _fmt(meta.get("human_area_frac")),
        "aesthetic": _fmt(meta.get("aesthetic")),
    }
    caption = sample.members.get("txt", b"").decode("utf-8", "replace")
    return SheetCell(sample.key, sample.task_id, caption, {k: v for k, v in facts.items() if v != "–"}, panels)


def _scaled_person(person: dict, sx: float, sy: float) -> dict:
    x0, y0, x1, y1 = person["box"]
    out = {"box": [x0 * sx, y0 * sy, x1 * sx, y1 * sy]}
    if person.get("keypoints"):
        kp = np.asarray(person["keypoints"], dtype=np.float32).reshape(-1, 3) * np.array([sx, sy, 1.0], np.float32)
        out["keypoints"] = kp.tolist()
    return out


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if isinstance(value, float) else str(value)

