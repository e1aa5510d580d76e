"""Geometry of an outpainting canvas: where the original image sits in it, and mapping labels between frames.

The canvas is the original image grown outward on some of its borders. The original keeps its pixel grid
(an integer offset, no scaling), so a point maps between frames by adding or subtracting that offset
exactly, and a dense map at canvas size crops back to the original's exact height and width. Labels are
in continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

SIDES = ("left", "top", "right", "bottom")


@dataclass(frozen=True)
class Canvas:
    width: int
    height: int
    """Size of the original image."""
    canvas_width: int
    canvas_height: int
    offset_x: int
    offset_y: int
    """Where the original's top-left corner sits on the canvas."""

    @property
    def box_in_original(self) -> list[int]:
        """The canvas as [x0, y0, x1, y1] in original-image pixels (x0, y0 <= 0): what json records."""
        return [-self.offset_x, -self.offset_y, self.canvas_width - self.offset_x, self.canvas_height - self.offset_y]

    @property
    def original_on_canvas(self) -> tuple[int, int, int, int]:
        """The original image as (x0, y0, x1, y1) in canvas pixels."""
        return self.offset_x, self.offset_y, self.offset_x + self.width, self.offset_y + self.height

    @property
    def extended_sides(self) -> tuple[str, ...]:
        x0, y0, x1, y1 = self.original_on_canvas
        grown = (x0 > 0, y0 > 0, x1 < self.canvas_width, y1 < self.canvas_height)
        return tuple(side for side, g in zip(SIDES, grown) if g)


def make_canvas(width: int, height: int, ratio: float, multiple_of: int = 8, sides: tuple[str, ...] = SIDES) -> Canvas:
    """Grow each named side by ratio x the image's size along that axis (at least 1 px when ratio > 0).

    An axis that grows is then rounded up to a multiple of `multiple_of` (so the canvas resizes cleanly to
    the diffusion model's 8-pixel grid); the extra pixels go to that axis's grown sides, split evenly. An
    axis with no grown side keeps the original size, so the original is never shifted along it.
    """
    if width < 1 or height < 1:
        raise ValueError(f"image size must be positive, got {width}x{height}")
    if ratio < 0:
        raise ValueError(f"ratio must be >= 0, got {ratio}")
    unknown = set(sides) - set(SIDES)
    if unknown:
        raise ValueError(f"unknown sides {sorted(unknown)}; expected a subset of {SIDES}")
    left, right = _grow_axis(width, ratio, "left" in sides, "right" in sides, multiple_of)
    top, bottom = _grow_axis(height, ratio, "top" in sides, "bottom" in sides, multiple_of)
    return Canvas(width, height, width + left + right, height + top + bottom, left, top)


def _grow_axis(size: int, ratio: float, before: bool, after: bool, multiple_of: int) -> tuple[int, int]:
    if ratio == 0 or not (before or after):
        return 0, 0
    pad = max(1, round(ratio * size))
    lo, hi = (pad if before else 0), (pad if after else 0)
    total = size + lo + hi
    extra = math.ceil(total / max(1, multiple_of)) * max(1, multiple_of) - total
    if before and after:
        return lo + extra // 2, hi + extra - extra // 2
    return (lo + extra, hi) if before else (lo, hi + extra)


def to_canvas(points, canvas: Canvas) -> np.ndarray:
    """N x (2 + k) points from original to canvas pixels; columns after x, y (e.g. scores) are kept."""
    return _shift(points, canvas.offset_x, canvas.offset_y)


def to_original(points, canvas: Canvas) -> np.ndarray:
    """N x (2 + k) points from canvas to original pixels; the inverse of to_canvas."""
    return _shift(points, -canvas.offset_x, -canvas.offset_y)


def _shift(points, dx: float, dy: float) -> np.ndarray:
    p = np.array(points, dtype=np.float64)
    p = p.reshape(-1, p.shape[-1])
    p[:, 0] += dx
    p[:, 1] += dy
    return p


def box_to_canvas(box, canvas: Canvas) -> list[float]:
    return to_canvas(np.reshape(box, (2, 2)), canvas).reshape(4).tolist()


def box_to_original(box, canvas: Canvas) -> list[float]:
    return to_original(np.reshape(box, (2, 2)), canvas).reshape(4).tolist()


def inside_original(points, canvas: Canvas) -> np.ndarray:
    """True where an original-frame point lies on the original image (edges included)."""
    p = np.asarray(points, dtype=np.float64)
    p = p.reshape(-1, p.shape[-1])
    return (p[:, 0] >= 0) & (p[:, 0] <= canvas.width) & (p[:, 1] >= 0) & (p[:, 1] <= canvas.height)


def keypoints_to_original(keypoints, canvas: Canvas) -> tuple[list[list[float]], list[bool]]:
    """Canvas-frame K x [x, y, score] to the original frame, plus a per-keypoint `outside` flag.

    Keypoints that land on the outpainted area keep their (out-of-image) coordinates and score; the flag
    lets users choose to drop them, instead of us dropping them silently.
    """
    p = to_original(np.asarray(keypoints, dtype=np.float64).reshape(-1, 3), canvas)
    outside = ~inside_original(p, canvas)
    rows = [[round(float(x), 2), round(float(y), 2), round(float(s), 4)] for x, y, s in p]
    return rows, [bool(o) for o in outside]


def crop_map_to_original(dense: np.ndarray, canvas: Canvas, resample: str = "linear") -> np.ndarray:
    """A dense map over the canvas (H x W or H x W x C) cropped to exactly the original's height x width.

    At canvas size this is an exact slice, whatever `resample` says. A map at another resolution (a model's
    output size) is resampled from the original's region, proportionally placed, to the original size:
    "nearest" for class labels (ids are never blended), "linear" for values, "normals" for unit vectors
    (linear, then each pixel renormalised to length 1).
    """
    if resample not in ("nearest", "linear", "normals"):
        raise ValueError(f"resample must be nearest, linear or normals, got {resample!r}")
    dense = np.asarray(dense)
    if dense.shape[:2] == (canvas.canvas_height, canvas.canvas_width):
        x0, y0, x1, y1 = canvas.original_on_canvas
        return dense[y0:y1, x0:x1].copy()
    mh, mw = dense.shape[:2]
    sx, sy = mw / canvas.canvas_width, mh / canvas.canvas_height
    x0, y0, x1, y1 = canvas.original_on_canvas
    region = (x0 * sx, y0 * sy, x1 * sx, y1 * sy)
    planes = dense[..., None] if dense.ndim == 2 else dense
    method = Image.NEAREST if resample == "nearest" else Image.BILINEAR
    out = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(planes[..., c], dtype=np.float32), mode="F").resize(
                (canvas.width, canvas.height), method, box=region
            )
        )
        for c in range(planes.shape[2])
    ]
    stacked = np.stack(out, axis=-1)
    if resample == "normals":
        stacked = stacked / np.maximum(np.linalg.norm(stacked, axis=-1, keepdims=True), 1e-12)
    if resample == "nearest":
        stacked = stacked.astype(dense.dtype)
    return stacked[..., 0] if dense.ndim == 2 else stacked


def pad_to_canvas(image: np.ndarray, canvas: Canvas) -> np.ndarray:
    """The original placed on the canvas, new area filled by edge replication (what inpainting starts from)."""
    x0, y0, x1, y1 = canvas.original_on_canvas
    pads = ((y0, canvas.canvas_height - y1), (x0, canvas.canvas_width - x1)) + ((0, 0),) * (image.ndim - 2)
    return np.pad(image, pads, mode="edge")


def new_area_mask(canvas: Canvas) -> np.ndarray:
    """Canvas-size bool mask, True on the area to outpaint."""
    mask = np.ones((canvas.canvas_height, canvas.canvas_width), dtype=bool)
    x0, y0, x1, y1 = canvas.original_on_canvas
    mask[y0:y1, x0:x1] = False
    return mask


def paste_original(canvas_rgb: np.ndarray, original: np.ndarray, canvas: Canvas) -> np.ndarray:
    """Put the original pixels back, bit-exact, over whatever the model produced inside their region."""
    out = np.array(canvas_rgb, copy=True)
    x0, y0, x1, y1 = canvas.original_on_canvas
    out[y0:y1, x0:x1] = original
    return out


def extend_box_on_canvas(box_on_canvas, canvas: Canvas, sides: tuple[str, ...]) -> list[float]:
    """Grow a canvas-frame box to the canvas edge on the given sides.

    A person cut by the image border has a box that ends at that border; top-down pose only looks a
    little past the box, so without this the outpainted legs or arms would never be seen.
    """
    x0, y0, x1, y1 = (float(v) for v in box_on_canvas)
    if "left" in sides:
        x0 = 0.0
    if "top" in sides:
        y0 = 0.0
    if "right" in sides:
        x1 = float(canvas.canvas_width)
    if "bottom" in sides:
        y1 = float(canvas.canvas_height)
    return [x0, y0, x1, y1]
