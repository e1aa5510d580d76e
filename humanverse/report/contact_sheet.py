"""The contact sheet: for each sampled kept row, its image with person boxes and the whole-body skeleton,
beside its depth and normal maps and person mask when the shard has them.

Drawing happens at thumbnail size (boxes and keypoints scaled down first), so lines stay visible however
large the original photo is. The skeleton comes from humanverse.report.visualize: mmpose's own
visualiser and COCO-WholeBody metainfo when mmpose is installed.
"""

from __future__ import annotations

import importlib.util
import logging
from collections import Counter
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
from humanverse.shards.encoding import decode_depth16, decode_mask8, decode_normal
from humanverse.shards.untrusted import BadSample, declared_size, persons_of

log = logging.getLogger(__name__)


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


def build_cells(samples: list[KeptSample], skipped: Counter | None = None) -> list[SheetCell]:
    """A cell per sample; a sample whose members break the format (shards/untrusted.py) is left out and
    counted in `skipped`, never the report."""
    cells, skipped = [], skipped if skipped is not None else Counter()
    for sample in samples:
        try:
            cell = _cell(sample)
        except BadSample as bad:
            skipped[bad.reason] += 1
            continue
        except Exception as exc:  # noqa: BLE001 - one broken sample never stops the report
            skipped[f"decode_error:{type(exc).__name__}"] += 1
            continue
        if cell is None:
            skipped["not_an_image"] += 1
        else:
            cells.append(cell)
    return cells


def _cell(sample: KeptSample) -> SheetCell | None:
    meta = sample.meta
    rgb = decode_untrusted(sample.members.get("jpg", b""))
    if rgb is None:
        return None
    h, w = rgb.shape[:2]
    scale = fit_scale(w, h)
    thumb = resize_rgb(rgb, scale)
    # keypoints and boxes are in original-image pixels (json width/height); map them onto the thumbnail
    src_w, src_h = declared_size(meta, w, h)
    sx, sy = thumb.shape[1] / src_w, thumb.shape[0] / src_h
    persons = [_scaled_person(p, sx, sy) for p in persons_of(meta)]
    has_pose = any(p.get("keypoints") for p in persons)
    panels = [("pose + boxes" if has_pose else "boxes", jpeg_data_uri(draw_pose(thumb, persons, radius=2, thickness=1)))]
    if "depth.png" in sample.members:
        depth = resize_rgb(depth_colormap(decode_depth16(sample.members["depth.png"])), scale)
        panels.append(("depth (turbo: near = red)", jpeg_data_uri(depth)))
    if "normal.png" in sample.members:
        normal = resize_rgb(normal_map(decode_normal(sample.members["normal.png"])), scale)
        panels.append(("normal", jpeg_data_uri(normal)))
    if "mask.png" in sample.members:
        mask = (decode_mask8(sample.members["mask.png"]) * 255).astype(np.uint8)
        panels.append(("person mask", jpeg_data_uri(resize_rgb(np.repeat(mask[..., None], 3, axis=2), scale))))
    facts = {
        "size": f"{meta.get('width')}×{meta.get('height')}",
        "persons": str(meta.get("n_persons", len(persons))),
        "human area": _fmt(meta.get("human_area_frac")),
        "aesthetic": _fmt(meta.get("aesthetic")),
    }
    caption = sample.members.get("txt", b"").decode("utf-8", "replace")
    return SheetCell(sample.key, sample.task_id, caption, {k: v for k, v in facts.items() if v != "–"}, panels)


def _scaled_person(person: dict, sx: float, sy: float) -> dict:
    x0, y0, x1, y1 = (float(v) for v in person["box"])
    out = {"box": [x0 * sx, y0 * sy, x1 * sx, y1 * sy]}
    if person.get("keypoints"):
        kp = np.asarray(person["keypoints"], dtype=np.float32).reshape(-1, 3) * np.array([sx, sy, 1.0], np.float32)
        out["keypoints"] = kp.tolist()
    return out


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3g}" if isinstance(value, float) else str(value)

