"""The contact sheet: for each sampled kept row, its image with person boxes and the whole-body skeleton,
beside its depth and normal maps and person mask when the shard has them.

Drawing happens at thumbnail size (boxes and keypoints scaled down first), so lines stay visible however
large the original photo is. The skeleton comes from humanverse.report.visualize: mmpose's own
visualiser and COCO-WholeBody metainfo when mmpose is installed.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from dataclasses import dataclass, field

import cv2
import numpy as np

from humanverse.report.visualize import depth_colormap, draw_pose
from humanverse.report.inspect import KeptSample
from humanverse.report.thumbnails import (
    decode_untrusted,
    fit_scale,
    jpeg_data_uri,
    resize_rgb,
)
from humanverse.shards.untrusted import BadSample, declared_size, decode_array, decode_each, persons_of


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
    return list(decode_each(samples, _cell, skipped if skipped is not None else Counter()))


def _cell(sample: KeptSample) -> SheetCell:
    meta = sample.meta
    rgb = decode_untrusted(sample.members.get("jpg", b""))
    if rgb is None:
        raise BadSample("not_an_image")
    h, w = rgb.shape[:2]
    scale = fit_scale(w, h)
    thumb = resize_rgb(rgb, scale)
    # keypoints and boxes are in original-image pixels (json width/height); map them onto the thumbnail
    src_w, src_h = declared_size(meta, w, h)
    sx, sy = thumb.shape[1] / src_w, thumb.shape[0] / src_h
    persons = [_scaled_person(p, sx, sy) for p in persons_of(meta)]
    has_pose = any(p.get("keypoints") for p in persons)
    panels = [("pose + boxes" if has_pose else "boxes", jpeg_data_uri(draw_pose(thumb, persons, radius=2, thickness=1)))]
    size = (thumb.shape[1], thumb.shape[0])
    if "depth.png" in sample.members:
        depth = _map_thumb(sample.members["depth.png"], None, size)
        if depth.dtype != np.uint16:
            raise BadSample("bad_depth", f"expected a 16-bit PNG, got {depth.dtype}")
        panels.append(("depth (turbo: near = red)", jpeg_data_uri(depth_colormap(depth))))
    if "normal.png" in sample.members:  # the stored RGB is the normal picture (NORMAL_CONVENTION)
        panels.append(("normal", jpeg_data_uri(_map_thumb(sample.members["normal.png"], "RGB", size))))
    if "mask.png" in sample.members:
        mask = _map_thumb(sample.members["mask.png"], "L", size)
        panels.append(("person mask", jpeg_data_uri(np.repeat(mask[..., None], 3, axis=2))))
    facts = {
        "size": f"{meta.get('width')}×{meta.get('height')}",
        "persons": str(meta.get("n_persons", len(persons))),
        "human area": _fmt(meta.get("human_area_frac")),
        "aesthetic": _fmt(meta.get("aesthetic")),
    }
    caption = sample.members.get("txt", b"").decode("utf-8", "replace")
    return SheetCell(sample.key, sample.task_id, caption, {k: v for k, v in facts.items() if v != "–"}, panels)


def _map_thumb(data: bytes, mode: str | None, size: tuple[int, int]) -> np.ndarray:
    """A dense map member at thumbnail size, shrunk as stored (uint8/uint16) right after decoding, so a map at
    the pixel cap costs its decoded bytes once, not float copies and colour maps at full size."""
    return cv2.resize(decode_array(data, mode), size, interpolation=cv2.INTER_AREA)


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

