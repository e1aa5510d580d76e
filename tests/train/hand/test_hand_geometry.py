"""A hand skeleton drawn from keypoints lands on them: in the crop, and after placement on the canvas."""

import numpy as np
import pytest

from humanverse.train.common.joint_crop import CropBox
from humanverse.train.hand.hand_geometry import (
    box_from_keypoints,
    crop_hand_keypoints,
    crop_padded,
    place,
    render_hand,
    square_box,
)
from tests.train.hand.hand_shards import hand_keypoints


def _distance_to_ink(image: np.ndarray, xy: np.ndarray) -> float:
    """Pixels from a point to the nearest drawn (non-black) pixel."""
    ys, xs = np.nonzero(image.max(axis=2) > 0)
    return float(np.min(np.hypot(xs - xy[0], ys - xy[1])))


def _ink_far_from(image: np.ndarray, points: np.ndarray, tolerance: float) -> float:
    """Largest distance of any drawn pixel from the skeleton's segments (wrist to each finger's joints)."""
    ys, xs = np.nonzero(image.max(axis=2) > 0)
    ink = np.stack([xs, ys], axis=1).astype(np.float64)
    best = np.full(len(ink), np.inf)
    for finger in range(5):
        chain = [0] + [1 + 4 * finger + j for j in range(4)]
        for a, b in zip(chain, chain[1:]):
            p, q = points[a, :2], points[b, :2]
            t = np.clip(((ink - p) @ (q - p)) / max(float((q - p) @ (q - p)), 1e-9), 0, 1)
            best = np.minimum(best, np.linalg.norm(ink - (p + t[:, None] * (q - p)), axis=1))
    return float(best.max())


@pytest.mark.parametrize("wrist", [(60.0, 70.0), (14.0, 100.0)])  # inside; reaching past the canvas border
def test_skeleton_lands_on_its_keypoints_through_crop_and_placement(wrist):
    canvas_size, crop_size = 128, 64
    keypoints = hand_keypoints(np.array(wrist), direction=-2.2, span=30.0)
    box = box_from_keypoints(keypoints, score_threshold=0.3, margin=0.25)
    in_crop = crop_hand_keypoints(keypoints, box, crop_size)
    skeleton = render_hand(in_crop, crop_size, score_threshold=0.3)
    rounding = np.sqrt(0.5)  # the renderer draws each point at its nearest pixel centre
    for point in in_crop:
        assert _distance_to_ink(skeleton, point) <= rounding
    canvas = np.zeros((canvas_size, canvas_size, 3), np.uint8)
    place(canvas, skeleton, box)
    visible = [(p[0] >= 0) & (p[0] < canvas_size) & (p[1] >= 0) & (p[1] < canvas_size) for p in keypoints]
    assert 6 <= sum(visible)
    scale = box.width / crop_size
    for point, inside in zip(keypoints, visible):
        if inside:
            assert _distance_to_ink(canvas, point) <= rounding * scale + rounding, point
    # and nothing is drawn where the skeleton is not (bounded by the line width after resizing)
    assert _ink_far_from(canvas, keypoints, 0) <= 2 * scale + 1.5


def test_crop_then_place_is_the_identity_on_the_box():
    rng = np.random.default_rng(0)
    image = (rng.random((40, 50, 3)) * 255).astype(np.uint8)
    box = CropBox(-6, 20, 32, 32)  # partly outside: padded with zeros, same size back
    crop = crop_padded(image, box, 32)
    canvas = np.zeros_like(image)
    place(canvas, crop, box)
    assert np.array_equal(canvas[20:40, 0:26], image[20:40, 0:26])
    assert not canvas[:20].any() and not canvas[:, 26:].any()


def test_square_box_and_mask_placement():
    assert square_box(10, 10, 30, 20) == CropBox(10, 5, 20, 20)
    canvas = np.zeros((20, 20), np.uint8)
    patch = np.full((8, 8), 7, np.uint8)
    mask = np.zeros((8, 8), bool)
    mask[:4] = True
    place(canvas, patch, CropBox(2, 2, 8, 8), mask)
    assert (canvas[2:6, 2:10] == 7).all() and not canvas[6:].any()
    assert box_from_keypoints(np.zeros((21, 3), np.float32), 0.3, 0.25) is None
