"""MediaPipe's hand landmark model run directly (LiteRT, real weights from the mediapipe wheel): the tracking
region from 21 points, and the search that finds hands where the palm detector finds none (kit photos)."""

from __future__ import annotations

import math

import numpy as np

from humanverse.accuracy import hand_kit
from humanverse.models.pose.hand_landmarks import HandLandmarks, overlaps, roi_from_landmarks
from humanverse.models.pose.mediapipe_hands import MediaPipeHands, distinct_hands, search_wanted, wheel_files
from tests.support.realdata import kit_folder


def _upright_hand() -> np.ndarray:
    """21 points of an open hand, wrist at (100, 200), fingers up (smaller y)."""
    pts = np.zeros((21, 2))
    pts[0] = [100, 200]
    for f, x in enumerate((70, 85, 100, 115, 130)):  # thumb, index, middle, ring, pinky
        for j in range(4):
            pts[1 + 4 * f + j] = [x, 170 - 15 * j]
    return pts


def test_tracking_region_is_upright_for_an_upright_hand_and_turns_with_it():
    pts = _upright_hand()
    centre, side, rotation = roi_from_landmarks(pts)
    assert abs(rotation) < 1e-9 and side > 0
    assert centre[1] < 200  # shifted from the wrist towards the fingers
    turned = np.stack([400 - pts[:, 1], pts[:, 0]], axis=1)  # the same hand turned 90 degrees clockwise
    centre2, side2, rotation2 = roi_from_landmarks(turned)
    assert math.isclose(rotation2 % (2 * math.pi), math.pi / 2, abs_tol=1e-9) and math.isclose(side2, side)
    assert np.allclose(centre2, [400 - centre[1], centre[0]])


def test_the_same_hand_seen_twice_is_kept_once():
    pts = np.c_[_upright_hand(), np.ones(21)]
    a = {"side": "left", "score": 0.9, "keypoints": pts}
    b = {"side": "right", "score": 0.95, "keypoints": pts + [3, 2, 0]}
    far = {"side": "left", "score": 0.6, "keypoints": pts + [300, 0, 0]}
    assert distinct_hands([a, b, far]) == [b, far]
    assert overlaps(pts, [pts]) and not overlaps(pts, [])


def test_search_finds_both_hands_the_palm_detector_misses_with_their_sides():
    """InterHand2.6M's clasped hands (a dark, head-less crop): the palm detector finds nothing on the whole
    crop; the landmark model's search finds both hands, each on its own side (the handedness output is
    mirrored like the Hands graph's label) and on the ground truth."""
    kit_folder("hands")
    (photo,) = [p for p in hand_kit.load() if p.name == "interhand2.6m_image69148.jpg"]
    rgb = hand_kit._rgb(photo.path)
    model = MediaPipeHands()
    whole = [0, 0, photo.width, photo.height]
    assert model(rgb, whole) == []
    hands = model.search(rgb, whole)
    assert sorted(h["side"] for h in hands) == ["left", "right"]
    result = hand_kit.score([photo], {photo.name: hands})["rows"]["all"]
    assert result["found"] == 1.0 and result["side"] == 1.0 and result["pck"] >= 0.6, result


def test_landmark_model_reads_a_hand_on_its_tracking_region():
    """Given the region MediaPipe's tracking would cut around a kit hand, the model finds it (presence), on
    the right side, with its points on the ground truth; a region of the empty background has no hand."""
    kit_folder("hands")
    (photo,) = [p for p in hand_kit.load() if p.name == "rhd_11111.png"]
    rgb, gt = hand_kit._rgb(photo.path), photo.hands[0]
    model = HandLandmarks(wheel_files()[1])
    out = model(rgb, *roi_from_landmarks(gt.keypoints[:, :2]))
    assert out["presence"] >= 0.9 and out["side"] == gt.side == "right"
    assert np.mean(np.linalg.norm(out["points"] - gt.keypoints[:, :2], axis=1) <= 0.2 * gt.size) >= 0.9
    assert model(np.zeros((320, 320, 3), np.uint8), (160, 160), 150, 0.0)["presence"] < 0.5


def test_search_is_for_face_less_close_ups_without_a_hand():
    crop = {"box": [0.0, 0.0, 300.0, 400.0], "keypoints": np.zeros((133, 3)).tolist()}
    assert search_wanted(crop, 300, 400)
    face = np.zeros((133, 3))
    face[40, 2] = 0.9
    assert not search_wanted({**crop, "keypoints": face.tolist()}, 300, 400)  # a face: body-scale box
    assert not search_wanted({**crop, "hands": [{"side": "left"}]}, 300, 400)  # a hand already found
    assert not search_wanted(crop, 1200, 800)  # a quarter of the picture: not a close-up
    assert not search_wanted({**crop, "box": [0.0, 0.0, 100.0, 100.0]}, 100, 100)  # under 128 px
