"""The joint crop keeps keypoints on the image content they mark, to a small fraction of a pixel."""

import numpy as np
import pytest

from humanverse.train.common.joint_crop import CropBox, crop_keypoints, crop_resize, scale_keypoints


def _blob(width: int, height: int, cx: float, cy: float, sigma: float) -> np.ndarray:
    """A Gaussian centred on (cx, cy), with pixel centres at integer coordinates (the stated convention)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    return np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * sigma**2)).astype(np.float32)


def _centroid(image: np.ndarray) -> tuple[float, float]:
    y, x = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    return float((x * image).sum() / image.sum()), float((y * image).sum() / image.sum())


@pytest.mark.parametrize("box,size", [
    (CropBox(0, 0, 1024, 1024), 64),  # the case that was half a pixel off at 64²
    (CropBox(100, 37, 800, 800), 64),
    (CropBox(10, 20, 48, 48), 96),  # upscaling
])
def test_keypoint_lands_on_the_resized_content(box, size):
    cx, cy, sigma = box.x0 + 0.37 * box.width, box.y0 + 0.61 * box.height, box.width / 16
    image = _blob(box.x0 + box.width + 5, box.y0 + box.height + 3, cx, cy, sigma)
    resized = crop_resize(image, box, size)
    mapped = crop_keypoints(np.array([[cx, cy, 1.0]], np.float32), box, size)[0]
    got = _centroid(resized)
    assert abs(mapped[0] - got[0]) < 0.05 and abs(mapped[1] - got[1]) < 0.05, (mapped, got)
    assert mapped[2] == 1.0


def test_plain_resize_uses_the_same_convention():
    import cv2

    image = _blob(640, 480, 201.3, 333.7, 20)
    resized = cv2.resize(image, (64, 48), interpolation=cv2.INTER_AREA)
    mapped = scale_keypoints(np.array([[201.3, 333.7, 0.5]], np.float32), 64 / 640, 48 / 480)[0]
    got = _centroid(resized)
    assert abs(mapped[0] - got[0]) < 0.05 and abs(mapped[1] - got[1]) < 0.05
