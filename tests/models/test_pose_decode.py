"""Known answers for the top-down geometry: crop placement, heatmap -> original pixel, flip test."""

import numpy as np
import pytest

from humanverse.models.pose.pose_decode import (
    COCO_WHOLEBODY_FLIP_INDICES,
    IMAGENET_MEAN,
    IMAGENET_STD,
    box_center_scale,
    crop_persons,
    decode_heatmaps,
    flip_back,
)
from humanverse.models.pose.pose_topdown import estimate_poses

INPUT = (256, 192)  # height, width
BOXES = [
    (100.0, 50.0, 180.0, 330.0),  # tall person
    (20.0, 200.0, 420.0, 300.0),  # wide (lying) person
    (300.0, 10.0, 400.0, 110.0),  # square
    (-40.0, 150.0, 60.0, 390.0),  # partly outside the image
]


def expected_window(box, padding=1.25):
    """Independent statement of the crop window: padded box widened to 3:4, centred on the box."""
    x0, y0, x1, y1 = box
    w, h = (x1 - x0) * padding, (y1 - y0) * padding
    if w > h * 0.75:
        h = w / 0.75
    else:
        w = h * 0.75
    return (x0 + x1) / 2 - w / 2, (y0 + y1) / 2 - h / 2, w, h


@pytest.mark.parametrize("box", BOXES)
@pytest.mark.parametrize("u,v", [(10, 40), (0, 0), (47, 63), (24, 5)])
def test_heatmap_peak_lands_on_known_image_pixel(box, u, v):
    hm = np.zeros((1, 133, 64, 48), np.float32)
    hm[0, 7, v, u] = 1.0  # a single peak: no sub-pixel refinement
    c, s = box_center_scale(np.array([box]), 1.25, INPUT)
    xy, score = decode_heatmaps(hm, c, s, INPUT)
    left, top, w, h = expected_window(box)
    assert xy[0, 7] == pytest.approx([left + u * w / 48, top + v * h / 64], abs=1e-3)
    assert score[0, 7] == pytest.approx(1.0)


def test_quarter_pixel_refinement_moves_towards_higher_neighbour():
    hm = np.zeros((1, 1, 64, 48), np.float32)
    hm[0, 0, 30, 20] = 1.0
    hm[0, 0, 30, 21] = 0.5  # right neighbour higher than left
    hm[0, 0, 29, 20] = 0.3  # upper neighbour higher than lower
    c, s = np.array([[96.0, 128.0]]), np.array([[192.0, 256.0]])  # window == crop: 1 crop px == 1 image px
    xy, _ = decode_heatmaps(hm, c, s, INPUT)
    assert xy[0, 0] == pytest.approx([(20 + 0.25) * 4, (30 - 0.25) * 4])


def _image_with_marker(xy, size=(480, 640)):
    img = np.zeros((*size, 3), np.uint8)
    x, y = int(round(xy[0])), int(round(xy[1]))
    img[max(0, y - 4) : y + 5, max(0, x - 4) : x + 5] = 255
    return img


def _marker_heatmaps(crops_normalised):
    """A stand-in model: a Gaussian heatmap on the bright marker's centroid, in every channel."""
    rgb = crops_normalised.transpose(0, 2, 3, 1) * IMAGENET_STD + IMAGENET_MEAN
    out = np.zeros((len(rgb), 133, 64, 48), np.float32)
    yy, xx = np.mgrid[0:64, 0:48]
    for i, img in enumerate(rgb):
        ys, xs = np.nonzero(img.mean(-1) > 0.5)
        cx, cy = xs.mean() / 4, ys.mean() / 4
        out[i, :] = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 1.5**2))
    return out


@pytest.mark.parametrize("flip", [False, True])
@pytest.mark.parametrize("box", BOXES)
def test_marker_is_found_at_its_original_pixel(box, flip):
    """Crop, a model that points at the marker, flip test, decode: back on the marker's pixel."""
    left, top, w, h = expected_window(box)
    marker = (max(5.0, left + 0.37 * w), max(5.0, top + 0.61 * h))
    img = _image_with_marker(marker)
    (kps,) = estimate_poses([img], [np.array([box])], _marker_heatmaps, input_size=INPUT, flip_test=flip)
    assert kps.shape == (1, 133, 3)
    crop_px = w / 192  # image pixels per crop pixel; heatmap quantisation is 4 crop px, refined to ~1-2
    assert np.abs(kps[0, :, 0] - marker[0]).max() <= 2.5 * crop_px + 0.5
    assert np.abs(kps[0, :, 1] - marker[1]).max() <= 2.5 * crop_px + 0.5


def test_crop_places_box_centre_at_crop_centre():
    box = np.array([[100.0, 50.0, 180.0, 330.0]])
    c, s = box_center_scale(box, 1.25, INPUT)
    img = _image_with_marker(c[0])
    crop = crop_persons(img, c, s, INPUT)[0]
    ys, xs = np.nonzero(crop.mean(-1) > 127)
    assert xs.mean() == pytest.approx(96, abs=1.0) and ys.mean() == pytest.approx(128, abs=1.0)


def test_flip_back_swaps_left_right_and_shifts_one_pixel():
    hm = np.zeros((1, 133, 64, 48), np.float32)
    hm[0, 9, 20, 10] = 1.0  # left wrist (9) at x=10 in the mirrored crop
    back = flip_back(hm)
    y, x = np.unravel_index(back[0, 10].argmax(), (64, 48))  # becomes right wrist (10)
    assert (y, x) == (20, 48 - 1 - 10 + 1)
    assert back[0, 9].max() == 0


def test_flip_indices_are_an_involution_over_133():
    idx = np.array(COCO_WHOLEBODY_FLIP_INDICES)
    assert sorted(idx) == list(range(133))
    assert (idx[idx] == np.arange(133)).all()


def test_flip_indices_match_mmpose_metainfo():
    utils = pytest.importorskip("mmpose.datasets.datasets.utils")
    meta = utils.parse_pose_metainfo(dict(from_file="configs/_base_/datasets/coco_wholebody.py"))
    assert list(COCO_WHOLEBODY_FLIP_INDICES) == list(meta["flip_indices"])


def test_batches_many_images_in_few_calls_and_keeps_owners():
    calls = []

    def fn(x):
        calls.append(len(x))
        return _marker_heatmaps(x)

    markers = [(150.0, 200.0), (300.0, 100.0), (60.0, 400.0)]
    images = [_image_with_marker(m) for m in markers]
    boxes = [np.array([[m[0] - 40, m[1] - 90, m[0] + 40, m[1] + 90]] * k) for m, k in zip(markers, (2, 0, 3))]
    out = estimate_poses(images, boxes, fn, batch_size=16, flip_test=True)
    assert calls == [10]  # 5 persons + their mirrors, one forward
    assert [len(o) for o in out] == [2, 0, 3]
    for m, kps in zip(markers, out):
        for person in kps:
            assert np.abs(person[:, :2] - np.array(m)).max() < 3.0
