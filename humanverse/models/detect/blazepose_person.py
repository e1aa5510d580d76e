"""A trained, offline, multi-person detector from the BlazePose models inside the mediapipe 0.10.21 wheel.

Why this and not HOG: HOG found 2 of 27 people on the exhaustively annotated kit photos (bench/ACCURACY.md).
The wheel ships (Apache-2.0) BlazePose's person detector (224 px, 2,254 SSD anchors, 4 alignment keypoints),
BlazePose's landmark model (256 px, 39 landmarks + a person mask + a presence flag) and the full-range
face detector. They run under LiteRT (`ai-edge-litert`), so no torch and no download.

The person detector is trained for the main person of a picture, so one pass finds few people in a group.
Proposals therefore come from three places (each can be turned off, and was measured on the kit):
  - the whole picture, letterboxed;
  - overlapping square tiles (people that are small in the whole picture are large in a tile);
  - faces: the full-range face detector finds many faces; the region under each face (where its body would
    be) is searched again with the person detector.
Every proposal's alignment points give a rotated square region; the landmark model runs there and its
presence flag confirms (or rejects) the person. The box is the extent of the model's person mask (or of the
landmarks, when the mask is empty), so boxes follow the body and not the square region.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from humanverse.models.box_overlap import iou_one_to_many
from humanverse.models.files import locate
from humanverse.models.rotated_square import to_image, warp_square

POSE_DETECTOR = "modules/pose_detection/pose_detection.tflite"
POSE_LANDMARKS = "modules/pose_landmark/pose_landmark_full.tflite"
FACE_DETECTOR = "modules/face_detection/face_detection_full_range_sparse.tflite"
FILES = (POSE_DETECTOR, POSE_LANDMARKS, FACE_DETECTOR)


def wheel_files() -> list[Path]:
    """The three tflite files inside the installed mediapipe wheel (MissingModelFiles with a hint when absent)."""
    root = locate("wheel:mediapipe", list(FILES))
    return [root / f for f in FILES]


def ssd_anchors(size: int, strides: list[int], per_layer: int) -> np.ndarray:
    """Anchor centres (normalised x, y) as MediaPipe's SsdAnchorsCalculator makes them with fixed anchor size:
    layers that share a stride are merged, each contributing `per_layer` anchors per cell."""
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        cells = math.ceil(size / strides[i])
        ys, xs = np.meshgrid((np.arange(cells) + 0.5) / cells, (np.arange(cells) + 0.5) / cells, indexing="ij")
        centres = np.stack([xs.ravel(), ys.ravel()], axis=1)
        out.append(np.repeat(centres, per_layer * (j - i), axis=0))
        i = j
    return np.concatenate(out).astype(np.float32)


@dataclass
class Detection:
    score: float
    box: np.ndarray
    """x0, y0, x1, y1 in image pixels (the detector's own box: a face box for both detectors)."""
    keypoints: np.ndarray
    """k x 2 in image pixels."""


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -80, 80)))


def weighted_nms(dets: list[Detection], iou: float) -> list[Detection]:
    """MediaPipe's WEIGHTED non-max suppression: each cluster becomes its score-weighted mean, top score kept."""
    dets = sorted(dets, key=lambda d: -d.score)
    out = []
    while dets:
        boxes = np.stack([d.box for d in dets])
        overlap = iou_one_to_many(dets[0].box, boxes) > iou
        cluster = [d for d, o in zip(dets, overlap) if o]
        w = np.array([d.score for d in cluster])[:, None]
        box = (np.stack([d.box for d in cluster]) * w).sum(0) / w.sum()
        kps = (np.stack([d.keypoints for d in cluster]) * w[:, :, None]).sum(0) / w.sum()
        out.append(Detection(dets[0].score, box, kps))
        dets = [d for d, o in zip(dets, overlap) if not o]
    return out


class _SsdModel:
    """One MediaPipe SSD detector (letterboxed square input in [-1, 1]) with its anchor layout."""

    def __init__(self, path: Path, size: int, strides: list[int], per_layer: int, num_keypoints: int,
                 threads: int):
        from ai_edge_litert.interpreter import Interpreter

        self.net = Interpreter(str(path), num_threads=threads)
        self.net.allocate_tensors()
        self.size, self.k = size, num_keypoints
        self.anchors = ssd_anchors(size, strides, per_layer)
        self.inp = self.net.get_input_details()[0]["index"]
        outs = sorted(self.net.get_output_details(), key=lambda d: d["shape"][-1], reverse=True)
        self.raw_index, self.score_index = outs[0]["index"], outs[1]["index"]

    def __call__(self, rgb: np.ndarray, min_score: float) -> list[Detection]:
        """Detections on `rgb` (any size; letterboxed), in its pixels."""
        h, w = rgb.shape[:2]
        scale = self.size / max(h, w)
        nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
        canvas = np.zeros((self.size, self.size, 3), np.float32)
        ox, oy = (self.size - nw) // 2, (self.size - nh) // 2
        canvas[oy:oy + nh, ox:ox + nw] = cv2.resize(rgb, (nw, nh), interpolation=cv2.INTER_AREA if scale < 1
                                                    else cv2.INTER_LINEAR)
        self.net.set_tensor(self.inp, (canvas / 127.5 - 1.0)[None])
        self.net.invoke()
        raw = self.net.get_tensor(self.raw_index)[0]
        scores = _sigmoid(self.net.get_tensor(self.score_index)[0, :, 0])
        out = []
        for i in np.nonzero(scores >= min_score)[0]:
            a = self.anchors[i]
            cx, cy = raw[i, 0] / self.size + a[0], raw[i, 1] / self.size + a[1]
            bw, bh = raw[i, 2] / self.size, raw[i, 3] / self.size
            kps = raw[i, 4:4 + 2 * self.k].reshape(-1, 2) / self.size + a
            to_px = lambda p: (p * self.size - [ox, oy]) / scale  # noqa: E731
            box = np.concatenate([to_px(np.array([cx - bw / 2, cy - bh / 2])),
                                  to_px(np.array([cx + bw / 2, cy + bh / 2]))])
            out.append(Detection(float(scores[i]), box, to_px(kps)))
        return weighted_nms(out, 0.3)


class BlazePosePersonDetector:
    """uint8 RGB images -> per image a list of (xyxy box, score) for every person found."""

    def __init__(self, min_score: float = 0.4, detector_score: float = 0.4, face_score: float = 0.4,
                 tiles: bool = True, faces: bool = True, nms_iou: float = 0.5, threads: int = 1,
                 files: list[Path] | None = None):
        from ai_edge_litert.interpreter import Interpreter

        pose_det, pose_lm, face_det = files or wheel_files()
        self.pose = _SsdModel(pose_det, 224, [8, 16, 32, 32, 32], 2, 4, threads)
        self.face = _SsdModel(face_det, 192, [4], 1, 6, threads) if faces else None
        self.landmarks = Interpreter(str(pose_lm), num_threads=threads)
        self.landmarks.allocate_tensors()
        outs = {tuple(d["shape"][1:]): d["index"] for d in self.landmarks.get_output_details()}
        self._lm_index, self._flag_index, self._mask_index = outs[(195,)], outs[(1,)], outs[(256, 256, 1)]
        self.min_score, self.detector_score, self.face_score = min_score, detector_score, face_score
        self.tiles, self.nms_iou = tiles, nms_iou

    def detect(self, images: list[np.ndarray]) -> list[list[tuple[list[float], float]]]:
        return [self._detect_one(np.ascontiguousarray(im)) for im in images]

    # proposals -------------------------------------------------------------------------------------------
    def _in_region(self, rgb, x0: float, y0: float, side: float) -> list[Detection]:
        """Person detections in the square region at (x0, y0) of `side` px (zero outside the picture)."""
        m = np.array([[1, 0, -x0], [0, 1, -y0]], dtype=np.float64)
        s = max(1, round(side))
        crop = cv2.warpAffine(rgb, m, (s, s), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        dets = self.pose(crop, self.detector_score)
        for d in dets:
            d.box = d.box + [x0, y0, x0, y0]
            d.keypoints = d.keypoints + [x0, y0]
        return dets

    def proposals(self, rgb: np.ndarray) -> list[Detection]:
        h, w = rgb.shape[:2]
        dets = self.pose(rgb, self.detector_score)
        if self.tiles and max(h, w) > 1.2 * min(h, w):
            side = min(h, w)
            n = math.ceil(max(h, w) / side * 1.5)
            for i in range(n):
                off = i * (max(h, w) - side) / max(1, n - 1)
                dets += self._in_region(rgb, off, 0, side) if w >= h else self._in_region(rgb, 0, off, side)
        if self.face is not None:
            for f in self.face(rgb, self.face_score):
                fh = max(f.box[3] - f.box[1], f.box[2] - f.box[0])
                cx, cy = (f.box[0] + f.box[2]) / 2, (f.box[1] + f.box[3]) / 2
                side = 10 * fh
                dets += self._in_region(rgb, cx - side / 2, cy - 1.2 * fh, side)
        return dets

    # confirmation ----------------------------------------------------------------------------------------
    def _person(self, rgb: np.ndarray, det: Detection) -> tuple[list[float], float] | None:
        """The landmark model on the detection's aligned region: (body box, presence) or None."""
        hip, full = det.keypoints[0], det.keypoints[1]
        dist = float(np.linalg.norm(full - hip))
        if dist < 4:
            return None
        rotation = math.pi / 2 - math.atan2(-(full[1] - hip[1]), full[0] - hip[0])
        side = 2.5 * dist
        crop, m = warp_square(rgb, hip, side, rotation, 256)
        net = self.landmarks
        net.set_tensor(net.get_input_details()[0]["index"], (crop.astype(np.float32) / 255.0)[None])
        net.invoke()
        flag = float(net.get_tensor(self._flag_index).reshape(-1)[0])
        presence = flag if 0.0 <= flag <= 1.0 else float(_sigmoid(flag))
        mask = _sigmoid(net.get_tensor(self._mask_index)[0, :, :, 0]) > 0.5
        lm = net.get_tensor(self._lm_index)[0].reshape(39, 5)[:33]
        if mask.sum() > 64:
            ys, xs = np.nonzero(mask)
            pts = np.stack([xs, ys], 1).astype(np.float64) + 0.5
        else:
            pts = lm[:, :2].astype(np.float64)
        img = to_image(pts, m)
        h, w = rgb.shape[:2]
        x0, y0 = np.clip(img.min(0), 0, [w, h])
        x1, y1 = np.clip(img.max(0), 0, [w, h])
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return [float(x0), float(y0), float(x1), float(y1)], presence * det.score

    def _detect_one(self, rgb: np.ndarray) -> list[tuple[list[float], float]]:
        if rgb.ndim != 3 or min(rgb.shape[:2]) < 16:
            return []
        found = []
        for det in weighted_nms(self.proposals(rgb), 0.3):
            person = self._person(rgb, det)
            if person is not None and person[1] >= self.min_score:
                found.append(person)
        found.sort(key=lambda p: -p[1])
        kept: list[tuple[list[float], float]] = []
        for box, score in found:
            if not kept or iou_one_to_many(np.array(box), np.array([k[0] for k in kept])).max() < self.nms_iou:
                kept.append((box, score))
        return kept
