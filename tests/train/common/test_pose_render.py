import numpy as np
import pytest

from humanverse.train.common.pose_render import KEYPOINT_COLOURS, NUM_KEYPOINTS, SKELETON, render_pose


def _person(points: dict[int, tuple[float, float]], score: float = 1.0) -> np.ndarray:
    kp = np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
    for index, (x, y) in points.items():
        kp[index] = (x, y, score)
    return kp


def test_skeleton_is_mmpose_coco_wholebody():
    assert len(SKELETON) == 65  # mmpose coco_wholebody skeleton_info has ids 0..64
    assert all(0 <= a < NUM_KEYPOINTS and 0 <= b < NUM_KEYPOINTS for a, b, _ in SKELETON)
    assert SKELETON[0][:2] == (15, 13)  # left_ankle - left_knee
    assert SKELETON[25][:2] == (9, 92)  # left_wrist - left_thumb1
    assert SKELETON[-1][:2] == (131, 132)  # right_pinky_finger3 - right_pinky_finger4
    assert len(KEYPOINT_COLOURS) == NUM_KEYPOINTS


def test_limb_drawn_between_known_keypoints_in_its_colour():
    # left shoulder (5) -> left elbow (7) is green in mmpose's palette.
    canvas = render_pose([_person({5: (40, 128), 7: (216, 128)})], width=256, height=256)
    assert tuple(canvas[126:131, 128].max(axis=0)) == (0, 255, 0)  # anti-aliased: brightest row is exact
    assert canvas[:110].max() == 0 and canvas[150:].max() == 0  # nothing away from the limb
    assert canvas[128, 230:].max() == 0  # the line stops at the elbow (plus the dot radius)


def test_low_confidence_keypoints_and_their_limbs_are_not_drawn():
    canvas = render_pose([_person({5: (10, 32), 7: (54, 32)}, score=0.1)], width=64, height=64)
    assert canvas.max() == 0


def test_several_people_and_rejects_bad_shapes():
    people = [_person({11: (20, 20), 12: (100, 20)}), _person({11: (20, 200), 12: (100, 200)})]
    canvas = render_pose(people, width=256, height=256)
    for y in (20, 200):  # hips are linked in blue
        assert tuple(canvas[y - 2 : y + 3, 60].max(axis=0)) == (51, 153, 255)
    with pytest.raises(ValueError):
        render_pose([np.zeros((17, 3))], width=8, height=8)
