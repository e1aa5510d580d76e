"""The mediapipe pose backend with its real trained models: the COCO-WholeBody mapping, the pose stage on
ground-truth boxes (including the photos HOG misses), scores, determinism.

Ground truth is read from ../shared/realdata/people; the photos HOG finds are tested end to end in
tests/accuracy/test_pose_geometry_e2e.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from humanverse.accuracy import ground_truth, metrics
from humanverse.accuracy.keypoint_defs import COCO17, LIMBS
from humanverse.models.pose import mediapipe_wholebody_map as wb
from humanverse.models.pose.pose_mediapipe import to_wholebody
from humanverse.stages.pose import PoseConfig, PoseStage
from humanverse.core.sample import Sample

needs_photos = pytest.mark.skipif(not ground_truth.people_dir_or_none(), reason="needs ../shared/realdata/people")


def test_body_and_feet_maps_name_the_same_joints_as_mediapipe():
    """Checked against MediaPipe's own landmark names, not against a copy of the table."""
    import mediapipe as mp

    names = {lm.value: lm.name.lower() for lm in mp.solutions.pose.PoseLandmark}
    assert [names[i] for i in wb.BODY_FROM_BLAZEPOSE] == list(COCO17)
    feet = [names[i] if i is not None else None for i in wb.FEET_FROM_BLAZEPOSE]
    assert feet == ["left_foot_index", None, "left_heel", "right_foot_index", None, "right_heel"]
    assert len(wb.FACE68_FROM_MESH) == 68 and all(0 <= i < 468 for ix in wb.FACE68_FROM_MESH for i in ix)


def test_missing_parts_score_zero_and_scores_stay_in_0_1():
    pose = np.random.default_rng(0).uniform(-0.5, 1.5, size=(33, 3)).astype(np.float32)
    kp = to_wholebody(pose, None, None, None)
    assert kp.shape == (133, 3)
    assert (kp[:, 2] >= 0).all() and (kp[:, 2] <= 1).all()
    assert (kp[wb.FACE, 2] == 0).all() and (kp[wb.LEFT_HAND, 2] == 0).all() and (kp[wb.RIGHT_HAND, 2] == 0).all()
    assert kp[18, 2] == 0 and kp[21, 2] == 0  # small toes: no counterpart
    assert (to_wholebody(None, None, None, None) == 0).all()


def _pose_on_gt_boxes(stage: PoseStage, image) -> list[np.ndarray]:
    from PIL import Image

    with Image.open(image.path) as im:
        rgb = np.asarray(im.convert("RGB"))
    sample = Sample(key="000000000", task_id="t", source={})
    sample.image = rgb
    sample.width, sample.height = image.width, image.height
    sample.persons = [{"box": p.box} for p in image.persons]
    stage.process([sample])
    assert sample.info["pose"]["backend"] == "mediapipe"
    return [np.asarray(p["keypoints"], dtype=np.float32) for p in sample.persons]


@pytest.fixture(scope="module")
def stage():
    s = PoseStage(PoseConfig(backend="mediapipe"))  # usable outside Ray: construct, setup, process
    s.setup()
    return s


@needs_photos
@pytest.mark.parametrize("photo, person", [("coco_000000000785.jpg", 0), ("mpii_004645041.jpg", 0)])
def test_photos_hog_misses_are_right_on_gt_boxes(stage, photo, person):
    """HOG finds no box on coco_000000000785 and puts its box on mpii_004645041 beside the man: the pose stage
    is scored on them with the GT boxes, as bench/accuracy.py's GT-box pass does."""
    image = ground_truth.load(names=[photo])[0]
    kp = _pose_on_gt_boxes(stage, image)[person]
    gt = image.persons[person]
    limbs = [j for j in LIMBS if gt.keypoints[j, 2] > 0]
    d = np.linalg.norm(kp[limbs, :2] - gt.keypoints[limbs, :2], axis=1) / metrics.long_side(gt.box)
    assert len(limbs) >= 8 and (d <= 0.2).all() and (kp[limbs, 2] > 0).all(), np.round(d, 3)


@needs_photos
def test_face_68_map_lands_on_the_coco_wholebody_faces(stage):
    """Every COCO-WholeBody face the mesh finds: the 68 mapped points sit on the labelled ones (a mirrored
    or shuffled index map would put jaw, brows and eyes on the wrong side)."""
    faces = 0
    for image in ground_truth.load(names=["coco_000000000785.jpg", "coco_000000040083.jpg", "coco_000000197388.jpg"]):
        for kp, gt in zip(_pose_on_gt_boxes(stage, image), image.persons):
            face = gt.keypoints[wb.FACE]
            labelled = face[:, 2] > 0
            if labelled.sum() < 40 or kp[wb.FACE][0, 2] == 0:
                continue
            extent = float(np.max(face[labelled, :2].max(0) - face[labelled, :2].min(0)))
            err = np.linalg.norm(kp[wb.FACE][labelled, :2] - face[labelled, :2], axis=1) / extent
            assert np.median(err) < 0.1 and np.mean(err < 0.2) >= 0.9, (image.name, np.round(np.median(err), 3))
            faces += 1
    assert faces >= 3, faces


@needs_photos
def test_output_is_deterministic_and_json_names_the_backend(stage):
    image = ground_truth.load(names=["coco_000000040083.jpg"])[0]
    first, second = _pose_on_gt_boxes(stage, image), _pose_on_gt_boxes(stage, image)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    assert stage.model_ids()["pose"].startswith("mediapipe-0.10.21-holistic sha256:")


def test_body_only_mode_gives_no_face_or_hands():
    s = PoseStage(PoseConfig(backend="mediapipe", mediapipe={"holistic": False}))
    s.setup()
    rgb = np.zeros((200, 120, 3), dtype=np.uint8)
    sample = Sample(key="000000000", task_id="t", source={})
    sample.image = rgb
    sample.persons = [{"box": [10, 10, 110, 190]}]
    s.process([sample])
    kp = np.asarray(sample.persons[0]["keypoints"])
    assert kp.shape == (133, 3) and (kp[23:, 2] == 0).all()
    assert s.model_ids()["pose"].startswith("mediapipe-0.10.21-blazepose-full")
