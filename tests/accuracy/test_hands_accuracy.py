"""Hands from MediaPipe Holistic (trained, in the wheel) against COCO-WholeBody hand ground truth on a shared
photo: the pose stage on the GT boxes, then the hands stage; bench/HANDS.md has all four photos."""

import pytest

from humanverse.accuracy import ground_truth
from humanverse.accuracy.hands import score_hands
from humanverse.config import resolve

PHOTO = "coco_000000197388.jpg"  # five skiers, five hands labelled on at least half their points, 14-24 px


@pytest.mark.slow  # MediaPipe Holistic on five crops plus selfie segmentation: ~3-8 s on the 2-core machine
def test_found_hands_land_on_the_ground_truth():
    if not ground_truth.people_dir_or_none():
        pytest.skip("needs ../shared/realdata/people")
    r = score_hands(resolve("demo", None, []), names=[PHOTO])
    assert r["hands"] == 5
    found = [row for row in r["rows"] if row["found"]]
    assert found, "MediaPipe found none of the labelled hands"
    assert all(row["pck"] >= 0.6 and row["iou"] >= 0.5 for row in found), found
    assert r["mask_recall_gt_boxes"] >= 0.4  # the person mask holds most hand points inside the GT hand boxes
