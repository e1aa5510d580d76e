"""MediaPipe's hand landmark model (hand_landmark_full.tflite, in the mediapipe 0.10.21 wheel, Apache-2.0) run
directly under LiteRT on a rotated square region: 21 points, a hand-presence probability and the handedness.

Why run it outside MediaPipe's Hands graph: that graph only looks where its palm detector fires, and on the
kit the palm detector misses hands that the landmark model reads well once given a region (InterHand2.6M's
dark, head-less hand/torso crops: 5 of 6 hands missed even on a square cut around the true hand). Two uses:
- `refine`: MediaPipe's own tracking step on a still picture: the region is re-cut around the model's own
  points (upright wrist -> middle knuckle, 2x the palm's extent), so the points come from a centred,
  aligned crop (measured on the kit: PCK@0.2 up on FreiHAND and Panoptic; bench/HANDS.md);
- `search`: where nothing found a hand, overlapping squares of the person box at four rotations; a square
  whose presence passes `seed` is refined twice and kept when its presence then reaches `accept`.
The handedness output assumes a mirrored (selfie) image like the Hands graph's label: a high value is the
person's right hand on an ordinary photo (checked on the kit's hands with a known side, tests/models).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from humanverse.models.box_overlap import iou_one_to_many
from humanverse.models.rotated_square import to_image, warp_square

INPUT = 224
ROI_POINTS = [0, 1, 2, 3, 5, 6, 9, 10, 13, 14, 17, 18]
"""The wrist and the palm's and fingers' base joints: MediaPipe's HandLandmarksToRect uses these for the box."""


def roi_from_landmarks(pts: np.ndarray) -> tuple[np.ndarray, float, float]:
    """MediaPipe's tracking region from 21 points: (centre, side, rotation). Upright = wrist below the mean
    of the middle knuckle and the index/ring knuckles; the box of ROI_POINTS in that frame, shifted 0.1 of its
    height towards the fingers, squared on its long side and scaled 2x."""
    wrist, knuckles = pts[0], ((pts[5] + pts[13]) / 2 + pts[9]) / 2
    rotation = math.atan2(knuckles[1] - wrist[1], knuckles[0] - wrist[0]) + math.pi / 2
    c, s = math.cos(rotation), math.sin(rotation)
    frame = np.array([[c, -s], [s, c]])  # region axes -> picture axes
    local = (pts[ROI_POINTS] - wrist) @ frame
    lo, hi = local.min(0), local.max(0)
    centre = (lo + hi) / 2 - [0.0, 0.1 * (hi - lo)[1]]
    return wrist + frame @ centre, 2.0 * float((hi - lo).max()), rotation


class HandLandmarks:
    """(uint8 RGB image, region) -> dict(points 21 x 2 image px, presence 0-1, side 'left'/'right',
    side_score 0-1)."""

    def __init__(self, path: Path, threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        self.net = Interpreter(str(path), num_threads=threads)
        self.net.allocate_tensors()
        self._input = self.net.get_input_details()[0]["index"]
        outs = {d["name"]: d["index"] for d in self.net.get_output_details()}
        self._points, self._presence, self._side = outs["Identity"], outs["Identity_1"], outs["Identity_2"]
        self.calls = 0

    def __call__(self, rgb: np.ndarray, centre, side: float, rotation: float) -> dict:
        crop, m = warp_square(rgb, centre, side, rotation, INPUT)
        self.net.set_tensor(self._input, (crop.astype(np.float32) / 255.0)[None])
        self.net.invoke()
        self.calls += 1
        pts = self.net.get_tensor(self._points)[0].reshape(21, 3)[:, :2].astype(np.float64)
        right = float(self.net.get_tensor(self._side).reshape(-1)[0])
        return {"points": to_image(pts, m), "presence": float(self.net.get_tensor(self._presence).reshape(-1)[0]),
                "side": "right" if right >= 0.5 else "left", "side_score": max(right, 1.0 - right)}

    def refine(self, rgb: np.ndarray, pts: np.ndarray, passes: int = 1) -> dict | None:
        """The model again on the tracking region of `pts`, `passes` times; None for a degenerate region."""
        out = None
        for _ in range(passes):
            centre, side, rotation = roi_from_landmarks(pts if out is None else out["points"])
            if side < 4:
                return out
            out = self(rgb, centre, side, rotation)
        return out

    def search(self, rgb: np.ndarray, box: list[float], sizes=(0.6, 0.4), seed: float = 0.5,
               accept: float = 0.5, max_hands: int = 2) -> list[dict]:
        """Hands in `box` (xyxy) without a palm detector: squares of `sizes` x the box's long side, half
        overlapping, each at 0, 90, 180 and 270 degrees (the first that passes `seed` is refined twice). A
        square centred inside a hand already found is skipped; a refined hand overlapping one already found
        (keypoint-box IoU > 0.5) is the same hand. `accept` 0.5 is MediaPipe's own min_tracking_confidence."""
        found: list[dict] = []
        for centre, side in _squares(box, sizes):
            if len(found) >= max_hands:
                break
            if any(_inside(centre, h["points"]) for h in found):
                continue
            for quarter in range(4):
                first = self(rgb, centre, side, quarter * math.pi / 2)
                if first["presence"] < seed:
                    continue
                hand = self.refine(rgb, first["points"], passes=2)
                if hand is not None and hand["presence"] >= accept and not overlaps(hand["points"], [h["points"] for h in found]):
                    found.append(hand)
                break
        return found


def _squares(box: list[float], sizes) -> list[tuple[tuple[float, float], float]]:
    """(centre, side) of the half-overlapping squares of each size covering `box`, largest first."""
    x0, y0, x1, y1 = box
    out = []
    for frac in sizes:
        side = frac * max(x1 - x0, y1 - y0)
        steps = [max(1, math.ceil((extent - side) / (side / 2)) + 1) for extent in (x1 - x0, y1 - y0)]
        xs, ys = (np.linspace(lo + side / 2, hi - side / 2, n) if n > 1 else [(lo + hi) / 2]
                  for lo, hi, n in ((x0, x1, steps[0]), (y0, y1, steps[1])))
        out += [((float(x), float(y)), side) for y in ys for x in xs]
    return out


def points_box(pts) -> list[float]:
    """xyxy of N x 2+ points (the first two columns)."""
    pts = np.asarray(pts, dtype=np.float64)[:, :2]
    return [*pts.min(0), *pts.max(0)]


def overlaps(pts, others: list, max_iou: float = 0.5) -> bool:
    """Whether the box of `pts` overlaps the box of any of `others` at IoU > max_iou: the same hand."""
    return bool(others) and iou_one_to_many(points_box(pts), [points_box(o) for o in others]).max() > max_iou


def _inside(point, pts: np.ndarray) -> bool:
    lo, hi = pts.min(0), pts.max(0)
    return bool(np.all(point >= lo) and np.all(point <= hi))
