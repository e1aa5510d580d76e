"""Known answers for the outpainting canvas geometry: sizes, offsets, point and map round trips."""

import numpy as np
import pytest

from humanverse.imaging.outpaint_canvas import (
    SIDES,
    box_to_canvas,
    box_to_original,
    crop_map_to_original,
    extend_box_on_canvas,
    keypoints_to_original,
    make_canvas,
    new_area_mask,
    pad_to_canvas,
    paste_original,
    to_canvas,
    to_original,
)


def test_all_sides_quarter_ratio_on_640x480():
    c = make_canvas(640, 480, 0.25)
    assert (c.canvas_width, c.canvas_height, c.offset_x, c.offset_y) == (960, 720, 160, 120)
    assert c.box_in_original == [-160, -120, 800, 600]
    assert c.original_on_canvas == (160, 120, 800, 600)
    assert c.extended_sides == SIDES


def test_rounding_to_multiple_of_8_splits_extra_pixels():
    # x: 201 + 2*round(50.25)=301 -> 304, extra 3 -> 51 left, 52 right; y: 203 + 2*51=305 -> 312, extra 7 -> 54/55
    c = make_canvas(201, 203, 0.25)
    assert (c.canvas_width, c.canvas_height, c.offset_x, c.offset_y) == (304, 312, 51, 54)
    assert c.canvas_width - c.offset_x - 201 == 52 and c.canvas_height - c.offset_y - 203 == 55


def test_only_touched_side_grows_and_other_axis_is_not_rounded():
    c = make_canvas(301, 800, 0.25, sides=("bottom",))
    assert (c.canvas_width, c.canvas_height, c.offset_x, c.offset_y) == (301, 1000, 0, 0)
    assert c.box_in_original == [0, 0, 301, 1000]
    assert c.extended_sides == ("bottom",)
    left = make_canvas(100, 50, 0.5, sides=("left",))
    assert (left.canvas_width, left.offset_x, left.canvas_height) == (152, 52, 50)


@pytest.mark.parametrize("ratio", [0.1, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("size", [(64, 48), (30, 80), (37, 41)])
@pytest.mark.parametrize("sides", [SIDES, ("bottom",), ("left", "top")])
def test_a_marked_pixel_maps_to_its_canvas_pixel_and_back(ratio, size, sides):
    w, h = size
    c = make_canvas(w, h, ratio, sides=sides)
    for axis, (lo, hi) in (("x", ("left", "right")), ("y", ("top", "bottom"))):
        grown = c.canvas_width if axis == "x" else c.canvas_height
        if lo in sides or hi in sides:
            assert grown % 8 == 0
    image = np.zeros((h, w, 3), dtype=np.uint8)
    points = np.array([[0, 0], [w - 1, h - 1], [w // 3, h // 2], [w - 1, 0]], dtype=float)
    canvas_rgb = pad_to_canvas(image, c)
    assert canvas_rgb.shape == (c.canvas_height, c.canvas_width, 3)
    for i, (x, y) in enumerate(points):
        marked = image.copy()
        marked[int(y), int(x)] = (255, 7 * i, 1)
        on_canvas = paste_original(canvas_rgb, marked, c)
        cx, cy = to_canvas([[x + 0.5, y + 0.5]], c)[0]
        assert tuple(on_canvas[int(cy), int(cx)]) == (255, 7 * i, 1)
    np.testing.assert_array_equal(to_original(to_canvas(points, c), c), points)


def test_extra_columns_such_as_scores_are_kept():
    c = make_canvas(100, 100, 0.5)  # 200 x 200, already a multiple of 8: offset (50, 50)
    out = to_canvas([[10, 20, 0.7], [0, 0, 0.1]], c)
    np.testing.assert_allclose(out, [[60, 70, 0.7], [50, 50, 0.1]])
    assert box_to_canvas([10, 20, 30, 40], c) == [60, 70, 80, 90]
    assert box_to_original([60, 70, 80, 90], c) == [10, 20, 30, 40]


def test_map_at_canvas_size_crops_back_to_exact_original():
    c = make_canvas(64, 48, 0.25)  # canvas 96 x 72, original at (16, 12)
    inside = np.arange(48 * 64, dtype=np.float32).reshape(48, 64)
    dense = np.full((72, 96), -1000.0, dtype=np.float32)
    dense[12:60, 16:80] = inside
    out = crop_map_to_original(dense, c)
    assert out.shape == (48, 64)
    np.testing.assert_array_equal(out, inside)
    normals = np.zeros((72, 96, 3), dtype=np.float32)
    normals[12:60, 16:80] = (0, 0, 1)
    cropped = crop_map_to_original(normals, c)
    assert cropped.shape == (48, 64, 3)
    np.testing.assert_array_equal(cropped[..., 2], 1.0)


def test_map_at_model_resolution_is_resampled_to_original_size():
    c = make_canvas(64, 48, 0.25)
    half = np.zeros((36, 48), dtype=np.float32)
    half[6:30, 8:40] = 1.0  # the original's region at half resolution
    out = crop_map_to_original(half, c)
    assert out.shape == (48, 64)
    np.testing.assert_allclose(out[1:-1, 1:-1], 1.0, atol=1e-6)


def test_keypoints_outside_the_original_are_kept_and_flagged():
    c = make_canvas(64, 48, 0.25)  # offset (16, 12)
    kps = [[16, 12, 0.9], [10, 50, 0.8], [80, 60, 0.7], [100, 30, 0.6], [40, 5, 0.5]]
    rows, outside = keypoints_to_original(kps, c)
    assert rows == [[0, 0, 0.9], [-6, 38, 0.8], [64, 48, 0.7], [84, 18, 0.6], [24, -7, 0.5]]
    assert outside == [False, True, False, True, True]


def test_mask_marks_exactly_the_new_area():
    c = make_canvas(10, 6, 0.5, multiple_of=1, sides=("right", "bottom"))
    mask = new_area_mask(c)
    assert mask.shape == (9, 15)
    assert not mask[:6, :10].any() and mask[6:].all() and mask[:, 10:].all()


def test_box_grows_to_the_canvas_edge_on_cut_sides():
    c = make_canvas(100, 80, 0.25, sides=("bottom",))
    assert extend_box_on_canvas([10, 5, 50, 80], c, ("bottom",)) == [10, 5, 50, c.canvas_height]
    assert extend_box_on_canvas([10, 5, 50, 80], c, ()) == [10, 5, 50, 80]


@pytest.mark.parametrize("args", [(0, 10, 0.2), (10, 10, -0.1)])
def test_bad_sizes_and_ratios_are_refused(args):
    with pytest.raises(ValueError):
        make_canvas(*args)


def test_unknown_side_is_refused():
    with pytest.raises(ValueError, match="unknown sides"):
        make_canvas(10, 10, 0.2, sides=("bottom", "under"))
