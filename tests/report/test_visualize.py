import numpy as np
import pytest

from humanverse.report.visualize import depth_colormap, draw_pose, normal_map


def _person():
    rng = np.random.default_rng(0)
    kps = np.concatenate([rng.uniform(60, 140, (133, 2)), np.ones((133, 1))], -1)
    return {"box": [50, 50, 150, 150], "score": 0.9, "keypoints": kps.tolist()}


def test_draw_pose_marks_keypoints_and_leaves_the_input_alone():
    img = np.zeros((200, 200, 3), np.uint8)
    out = draw_pose(img, [_person()])
    assert out.shape == img.shape and img.max() == 0
    inside = out[60:140, 60:140].any(-1).mean()
    assert inside > 0.05  # keypoints (and limbs with mmpose) drawn inside the box


def test_low_scores_are_not_drawn():
    p = _person()
    p["keypoints"] = [[x, y, 0.0] for x, y, _ in p["keypoints"]]
    out = draw_pose(np.zeros((200, 200, 3), np.uint8), [p])
    assert out[60:140, 60:140].max() == 0


def test_mmpose_visualiser_draws_limbs_when_installed():
    pytest.importorskip("mmpose")
    from humanverse.report.visualize import _draw_dots

    img = np.zeros((200, 200, 3), np.uint8)
    p = _person()
    with_limbs = draw_pose(img, [p])
    dots = _draw_dots(img.copy(), [np.asarray(p["keypoints"], np.float32)], 0.3, 2)
    assert with_limbs.any(-1).sum() > dots.any(-1).sum()


def test_depth_colormap_and_normal_map():
    d = np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10)
    rgb = depth_colormap(d)
    assert rgb.shape == (10, 10, 3) and rgb.dtype == np.uint8 and not (rgb[0, 0] == rgb[-1, -1]).all()
    n = np.zeros((4, 4, 3), np.float32)
    n[..., 2] = 1
    assert (normal_map(n) == [128, 128, 255]).all()
