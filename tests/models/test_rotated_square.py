"""Rotated square regions: the crop shows the region, and crop points map back to where they came from."""

import math

import numpy as np

from humanverse.models.rotated_square import to_image, warp_square


def test_a_quarter_turned_region_maps_its_crop_back_onto_the_picture():
    rgb = np.zeros((100, 100, 3), np.uint8)
    rgb[20, 60] = 255  # one bright pixel
    crop, m = warp_square(rgb, (50, 50), 80, math.pi / 2, 80)
    ys, xs = np.nonzero(crop[..., 0] > 100)
    back = to_image(np.array([[xs.mean(), ys.mean()]]), m)[0]
    assert np.allclose(back, [60, 20], atol=1.0)
    assert not np.allclose([xs.mean(), ys.mean()], [50, 10], atol=2.0)  # turned, not a plain crop
