"""OpenCV's HOG + linear SVM people detector (Dalal & Triggs), trained and shipped inside OpenCV 4.x.

Weak, but real and download-free: it lets the demo preset make real keep/drop decisions on real photos
where an untrained network would find nobody. OpenCV 5 dropped it, hence opencv-python<5.
"""

from __future__ import annotations

import cv2
import numpy as np


class HogPersonDetector:
    def __init__(self, min_score: float = 0.3, max_side: int = 640, nms_iou: float = 0.4):
        if not hasattr(cv2, "HOGDescriptor"):
            raise RuntimeError(f"OpenCV {cv2.__version__} has no HOGDescriptor; install opencv-python<5")
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.min_score, self.max_side, self.nms_iou = min_score, max_side, nms_iou

    def detect(self, images: list[np.ndarray]) -> list[list[tuple[list[float], float]]]:
        return [self._detect_one(im) for im in images]

    def _detect_one(self, rgb: np.ndarray) -> list[tuple[list[float], float]]:
        h, w = rgb.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
        gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
        if min(gray.shape) < 128:
            return []
        rects, weights = self.hog.detectMultiScale(gray, winStride=(8, 8), padding=(16, 16), scale=1.05)
        if len(rects) == 0:
            return []
        weights = np.asarray(weights, dtype=np.float64).reshape(-1)
        keep = cv2.dnn.NMSBoxes([list(map(int, r)) for r in rects], weights.tolist(), self.min_score, self.nms_iou)
        out = []
        for i in np.asarray(keep).reshape(-1):
            x, y, bw, bh = (float(v) / scale for v in rects[i])
            box = [max(0.0, x), max(0.0, y), min(float(w), x + bw), min(float(h), y + bh)]
            out.append((box, float(weights[i])))
        return out
