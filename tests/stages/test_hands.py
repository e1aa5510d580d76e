"""The hands stage: hand boxes from the 133 keypoints (square, margin, threshold, shifted inside), the quality
rule, HaGRID hands onto persons with their sides, and the hand mask from a person mask or body parts."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from humanverse.config import resolve
from humanverse.config_base import ConfigError
from humanverse.core.sample import Sample
from humanverse.shards.encoding import encode_mask8
from humanverse.stages.hagrid_hands import attach_hagrid_hands
from humanverse.stages.hand_boxes import HandBoxConfig, hand_entry, hands_from_wholebody, square_box
from humanverse.stages.hands import HandQualityConfig, HandsConfig, HandsStage, hand_quality_ok
from humanverse.stages.parts import encode_classes

W, H = 400, 300


def hand_points(cx: float, cy: float, spread: float, score: float = 0.9) -> np.ndarray:
    """21 points on a circle of radius `spread` around (cx, cy): tight box = 2 * spread."""
    angles = np.linspace(0, 2 * np.pi, 21, endpoint=False)
    return np.column_stack([cx + spread * np.cos(angles), cy + spread * np.sin(angles), np.full(21, score)])


def person(left=None, right=None, box=(50, 20, 350, 290), wrists=None) -> dict:
    kp = np.zeros((133, 3))
    if left is not None:
        kp[91:112] = left
    if right is not None:
        kp[112:133] = right
    for index, xy in (wrists or {}).items():
        kp[index] = (*xy, 0.9)
    return {"box": list(box), "keypoints": kp.tolist()}


def test_box_is_a_square_of_the_stated_margin_around_the_visible_points():
    cfg = HandBoxConfig(box_scale=1.5)
    box = square_box(np.array([[100.0, 100.0], [140.0, 120.0]]), W, H, cfg)
    assert box == [90.0, 80.0, 150.0, 140.0]  # longer side 40 x 1.5 = 60, centred on (120, 110)
    near_edge = square_box(np.array([[2.0, 290.0], [22.0, 298.0]]), W, H, cfg)
    assert near_edge[2] - near_edge[0] == near_edge[3] - near_edge[1] == 30.0  # shifted inside, still square
    assert near_edge[0] == 0.0 and near_edge[3] == 300.0
    assert square_box(np.array([[50.0, 50.0]]), W, H, cfg) == [42.0, 42.0, 58.0, 58.0]  # the 16 px floor


def test_threshold_decides_visibility_and_a_hand_with_nothing_visible_is_not_listed():
    cfg = HandBoxConfig(min_score=0.3)
    kp = hand_points(200, 150, 20, score=0.9)
    kp[:7, 2] = 0.29
    kp[:7, :2] = 0.0  # low-score points far away must not widen the box
    entry = hand_entry("left", kp, W, H, cfg, "pose")
    assert entry["visible_frac"] == round(14 / 21, 4)
    assert entry["score"] == round(float(kp[:, 2].mean()), 4)
    assert entry["box"][0] > 150 and len(entry["keypoints"]) == 21 and entry["source"] == "pose"
    assert hand_entry("left", hand_points(200, 150, 20, score=0.2), W, H, cfg, "pose") is None
    outside = hand_points(200, 150, 20)
    assert hand_entry("left", outside, W, H, cfg, "pose", outside=[True] * 21) is None


def test_left_and_right_come_from_the_wholebody_slices():
    hands = hands_from_wholebody(person(left=hand_points(300, 150, 10), right=hand_points(100, 150, 10)), W, H,
                                 HandBoxConfig())
    assert [h["side"] for h in hands] == ["left", "right"]
    assert hands[0]["box"][0] > 250 and hands[1]["box"][2] < 150
    only_right = hands_from_wholebody(person(right=hand_points(100, 150, 10)), W, H, HandBoxConfig())
    assert [h["side"] for h in only_right] == ["right"]


def test_quality_rule_needs_both_hands_of_one_person_scored_visible_and_large():
    q = HandQualityConfig(min_score=0.5, min_visible_frac=0.8, min_box_px=64, min_hands=2)
    big = dict(person(left=hand_points(300, 150, 30), right=hand_points(100, 150, 30)))
    big["hands"] = hands_from_wholebody(big, W, H, HandBoxConfig())
    assert hand_quality_ok([big], q)
    small = dict(person(left=hand_points(300, 150, 20), right=hand_points(100, 150, 30)))
    small["hands"] = hands_from_wholebody(small, W, H, HandBoxConfig())  # 40 x 1.5 = 60 px < 64
    assert not hand_quality_ok([small], q)
    assert hand_quality_ok([small], q.model_copy(update={"min_hands": 1}))
    faint = dict(person(left=hand_points(300, 150, 30, 0.45), right=hand_points(100, 150, 30)))
    faint["hands"] = hands_from_wholebody(faint, W, H, HandBoxConfig())
    assert not hand_quality_ok([faint], q)


def sample_with(persons: list[dict], **members) -> Sample:
    s = Sample(key="000000000", task_id="t", source={})
    s.width, s.height, s.persons = W, H, persons
    s.image = np.zeros((H, W, 3), np.uint8)
    s.members.update(members)
    return s


def test_stage_writes_hands_scores_and_nothing_without_keypoints():
    stage = HandsStage(HandsConfig())
    s = sample_with([person(left=hand_points(300, 150, 30), right=hand_points(100, 150, 30)), {"box": [0, 0, 9, 9]}])
    stage.process([s])
    assert s.scores == {"n_hands_visible": 2, "hand_quality_ok": True}
    assert "hands" not in s.persons[1] and s.info["hands"]["source"] == "pose"
    bare = sample_with([{"box": [0, 0, 9, 9]}])
    stage.process([bare])
    assert bare.scores == {} and "hands" not in bare.persons[0]


def test_hand_mask_is_the_person_mask_inside_the_hand_boxes():
    prob = np.zeros((H, W), np.float32)
    prob[:, :200] = 1.0  # the person mask covers the image's left half
    s = sample_with([person(left=hand_points(300, 150, 30), right=hand_points(100, 150, 30))],
                    **{"mask.png": encode_mask8(prob)})
    s.info["mask"] = {"backend": "mediapipe_selfie"}
    HandsStage(HandsConfig(mask="auto")).process([s])
    mask = np.asarray(Image.open(io.BytesIO(s.members["hand_mask.png"])))
    assert mask.shape == (H, W) and mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 255}
    x0, y0, x1, y1 = s.persons[0]["hands"][1]["box"]  # the right hand, on the masked half
    assert (mask[int(y0) + 1 : int(y1) - 1, int(x0) + 1 : int(x1) - 1] == 255).all()
    assert mask[:, 200:].max() == 0  # the left hand's box lies outside the person mask
    assert (mask == 255).sum() == s.info["hand_mask"]["pixels"]
    assert abs((mask == 255).sum() - (x1 - x0) * (y1 - y0)) <= 2 * ((x1 - x0) + (y1 - y0))  # pixel centres inside
    assert s.info["hand_mask"]["method"] == "person_mask"


def test_hand_mask_from_body_part_classes_when_parts_ran():
    classes = np.zeros((H, W), np.uint8)
    classes[10:20, 10:30] = 6   # Left_Hand
    classes[40:50, 10:20] = 15  # Right_Hand
    classes[60:70, 10:20] = 7   # Left_Lower_Arm: not a hand
    s = sample_with([person(left=hand_points(300, 150, 30))], **{"parts.png": encode_classes(classes),
                                                                "mask.png": encode_mask8(np.ones((H, W)))})
    s.info["parts"] = {"hand_classes": {"left_hand": 6, "right_hand": 15}}
    HandsStage(HandsConfig(mask="auto")).process([s])
    mask = np.asarray(Image.open(io.BytesIO(s.members["hand_mask.png"])))
    assert (mask == 255).sum() == 300 and s.info["hand_mask"]["method"] == "parts"


def test_forced_method_without_its_member_writes_no_mask():
    s = sample_with([person(left=hand_points(300, 150, 30))])
    HandsStage(HandsConfig(mask="parts")).process([s])
    assert "hand_mask.png" not in s.members and "hand_mask" not in s.info
    assert s.info["hands"]["hand_mask_missing"] == "hands.mask=parts: no parts member in this row"


def test_hand_mask_needs_a_mask_or_parts_stage_in_the_config():
    with pytest.raises(ConfigError, match="hands.mask=auto needs"):
        resolve("demo", None, ["mask=null", "hands.mask=auto"])
    assert resolve("demo", None, ["hands.mask=auto"]).hands.mask == "auto"


def hagrid_hand(cx_norm: float, cy_norm: float, label: str) -> dict:
    pts = hand_points(cx_norm * W, cy_norm * H, 25)[:, :2] / [W, H]
    return {"landmarks": pts.tolist(), "label": label}


def test_hagrid_hands_go_to_the_person_holding_them_with_sides_by_the_stated_rules():
    cfg = HandBoxConfig()
    raw = [hagrid_hand(0.3, 0.5, "like"), hagrid_hand(0.7, 0.5, "no_gesture")]
    frontal = [{"box": [50, 20, 350, 290]}, {"box": [380, 0, 400, 30]}]
    assert attach_hagrid_hands(frontal, raw, None, W, H, cfg) == 0
    hands = frontal[0]["hands"]
    assert [(h["side"], h["side_from"], h["source"], h["label"]) for h in hands] == [
        ("right", "frontal", "hagrid", "like"), ("left", "frontal", "hagrid", "no_gesture")]
    assert hands[0]["score"] == 1.0 and hands[0]["visible_frac"] == 1.0 and "hands" not in frontal[1]

    leading = [{"box": [50, 20, 350, 290]}]
    attach_hagrid_hands(leading, raw, "left", W, H, cfg)  # v1: the gesturing hand is the person's left
    assert [(h["side"], h["side_from"]) for h in leading[0]["hands"]] == [("left", "leading_hand"), ("right", "leading_hand")]

    posed = [person(wrists={9: (0.3 * W, 0.5 * H + 30), 10: (0.7 * W, 0.5 * H + 30)})]  # a back view
    attach_hagrid_hands(posed, raw, None, W, H, cfg)
    assert [(h["side"], h["side_from"]) for h in posed[0]["hands"]] == [("left", "pose_wrists"), ("right", "pose_wrists")]
    assert attach_hagrid_hands([], raw, None, W, H, cfg) == 2
    far = [{"box": [50, 40, 150, 160]}]  # widened by 25 px left and right: the hand at x=120 is on it, x=280 not
    assert attach_hagrid_hands(far, raw, None, W, H, cfg) == 1 and [h["label"] for h in far[0]["hands"]] == ["like"]


def test_stage_prefers_hagrid_hands_over_the_pose_hands():
    s = sample_with([person(left=hand_points(300, 150, 30), right=hand_points(100, 150, 30))])
    s.meta["hagrid_hands"] = [hagrid_hand(0.3, 0.5, "one")]
    s.info["hagrid"] = {"leading_hand": None}
    HandsStage(HandsConfig()).process([s])
    assert [h["source"] for h in s.persons[0]["hands"]] == ["hagrid"]
    assert s.scores["n_hands_visible"] == 1 and s.info["hands"] == {"source": "hagrid", "unassigned": 0}


def test_hands_preset_turns_the_mask_stage_and_the_hand_mask_on():
    cfg = resolve("hands", None, [])
    assert cfg.mask is not None and cfg.hands.mask == "auto" and cfg.pose.backend == "mmpose"
    assert cfg.depth is None and cfg.normal is None and cfg.outpaint.mode == "never"


def test_sapiens_goliath_hands_map_onto_all_21_points_of_each_side():
    """The sapiens pose backend's 308 Goliath points reach the hands through the 133 (every hand point has a
    Goliath counterpart), so its hands are complete and on the right sides."""
    from humanverse.models.sapiens.goliath_keypoints import COCO_WHOLEBODY_FROM_GOLIATH, GOLIATH_308, goliath_to_coco_wholebody

    goliath = np.zeros((len(GOLIATH_308), 3))
    left, right = hand_points(300, 150, 30), hand_points(100, 150, 30)
    for coco, name in COCO_WHOLEBODY_FROM_GOLIATH.items():
        if 91 <= coco < 133:
            goliath[GOLIATH_308.index(name)] = left[coco - 91] if coco < 112 else right[coco - 112]
    wholebody = goliath_to_coco_wholebody(goliath)
    hands = hands_from_wholebody({"box": [0, 0, W, H], "keypoints": wholebody.tolist()}, W, H, HandBoxConfig())
    assert [(h["side"], h["visible_frac"]) for h in hands] == [("left", 1.0), ("right", 1.0)]
    assert hands[0]["box"][0] > 200 and hands[1]["box"][2] < 200
