"""MediaPipe Hands (real weights from the mediapipe wheel) on the kit's real hands: the side comes out right
once MediaPipe's mirrored (selfie) handedness label is swapped, and the points land on the ground truth."""

from __future__ import annotations

import pytest

from humanverse.accuracy import hand_kit
from humanverse.models.pose.mediapipe_hands import MediaPipeHands, merge_hands
from tests.support.realdata import HANDS

needs_hands = pytest.mark.skipif(not (HANDS / "ground_truth_index.json").is_file(), reason="needs the realdata kit")
SIDED = ("rhd_00111.png", "rhd_11111.png", "panoptic_ex2_2.flv_000040_l.jpg")
"""Hands with a GT side that MediaPipe Hands finds on the whole picture: left, right, and a left + right pair."""


@needs_hands
def test_side_and_points_match_the_ground_truth():
    photos = [p for p in hand_kit.load() if p.name in SIDED]
    model = MediaPipeHands()
    preds = {p.name: model(hand_kit._rgb(p.path), [0, 0, p.width, p.height]) for p in photos}
    result = hand_kit.score(photos, preds)["rows"]["all"]
    assert result["hands"] == 4 and result["found"] == 1.0
    assert result["side"] == 1.0  # unswapped, every one of the four would be wrong
    assert result["pck"] >= 0.8


def test_merge_keeps_the_surer_hand_per_side():
    pose_left = {"side": "left", "score": 0.6, "keypoints": []}
    pose_right = {"side": "right", "score": 0.9, "keypoints": []}
    hands_left = {"side": "left", "score": 0.95, "keypoints": []}
    hands_right = {"side": "right", "score": 0.7, "keypoints": []}
    assert merge_hands([pose_left, pose_right], [hands_left, hands_right]) == [hands_left, pose_right]
    assert merge_hands([], [hands_right]) == [hands_right]
