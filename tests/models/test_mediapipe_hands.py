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


@needs_hands
def test_hands_stage_refinement_finds_the_hand_the_pose_model_missed():
    """A person box around a hand crop whose pose found no hand: off, the row has no hand; with hands.refine
    the stage looks in the person box with MediaPipe Hands and the hand lands on the ground truth."""
    import numpy as np

    from humanverse.core.sample import Sample
    from humanverse.stages.hands import HandsConfig, HandsStage

    (photo,) = [p for p in hand_kit.load() if p.name == "onehand10k_1402.jpg"]  # OK sign, 194 px
    rows = {}
    for refine in (False, True):
        s = Sample(key="k", task_id="t", source={})
        s.image, s.width, s.height = hand_kit._rgb(photo.path), photo.width, photo.height
        s.persons = [{"box": [0.0, 0.0, float(photo.width), float(photo.height)], "keypoints": np.zeros((133, 3)).tolist()}]
        stage = HandsStage(HandsConfig(refine=refine))
        stage.ensure_setup()
        stage.annotate(s)
        rows[refine] = s
    assert rows[False].persons[0]["hands"] == []
    (hand,) = rows[True].persons[0]["hands"]
    assert hand["source"] == "mediapipe_hands"
    assert hand_kit.score([photo], {photo.name: [hand]})["rows"]["all"]["pck"] >= 0.9
    assert rows[True].info["models"]["hands"].startswith("mediapipe-0.10.21-hands-full sha256:")
