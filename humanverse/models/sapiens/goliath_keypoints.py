"""Sapiens2's 308 Goliath keypoints: their names, their left/right swap, and their map into COCO-WholeBody 133.

transformers ships Sapiens2 without keypoint names, so they come from Meta's public repository:
facebookresearch/sapiens2, file `sapiens/pose/configs/_base_/keypoints308.py` (commit 3098c14), the
`dataset_info["keypoint_info"]` of the 344 Goliath points after its `remove_teeth` step (308 remain). The same
308 names, in the same order, are in facebookresearch/sapiens `pose/configs/_base_/datasets/goliath.py`
(Sapiens v1). GOLIATH_FLIP_INDICES is that file's `swap` field as indices (Meta's swap is not a plain l_/r_
rename: the numbered eyebrow and lash-line midpoints run mirrored, so it is copied, not derived).

COCO-WholeBody from Goliath (COCO_WHOLEBODY_FROM_GOLIATH, one entry per COCO index that has a counterpart):
  - Meta's own mapping: the same file builds `coco_wholebody_to_goliath_mapping` by exact name; it covers
    53 points: body 17, feet 6, and per hand the 15 finger points named finger2..finger4 / thumb2..thumb4.
  - Ours, by anatomy (not in Meta's table): per hand, `*_hand_root` <- the body wrist (COCO-WholeBody's
    hand root is the wrist) and `*1` (the knuckle, MCP; CMC for the thumb) <- `*_third_joint` (the joint
    after 2, 3 and 4 counting from the tip): 12 points; and 18 of the 68 face points (iBUG 300-W layout,
    face-i is COCO index 23 + i; subject's right = Goliath `r_`): face-8 chin tip, face-27 nose root,
    face-30 nose tip, face-31 / face-35 outer nose corners, face-33 bottom centre of the nose, face-36 /
    face-45 outer eye corners (outer end of the upper eyelid line), face-39 / face-42 inner eye corners (inner
    end of the upper lash line), face-48 / face-54 outer mouth corners, face-51 cupid's bow, face-57 centre of
    the lower outer lip, face-60 / face-64 inner mouth corners, face-62 / face-66 centres of the inner lips.
  - No counterpart (written as [0, 0, 0], i.e. score 0, which every consumer treats as absent): 50 face
    points: the 17-point jaw contour except the chin tip (Goliath has no jawline), the 10 eyebrow points
    (Goliath's brow points are numbered without a published spatial order), nose-bridge points 28-29,
    nostril points 32 and 34, eyelid points 37-38, 40-41, 43-44, 46-47, and the remaining 12 lip points.
    Those 50 points and the 308 originals stay available in `keypoints_goliath`.
"""

from __future__ import annotations

import numpy as np

from humanverse.models.pose.pose_decode import NUM_KEYPOINTS

GOLIATH_308 = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder', 'left_elbow',
    'right_elbow', 'left_hip', 'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle', 'left_big_toe',
    'left_small_toe', 'left_heel', 'right_big_toe', 'right_small_toe', 'right_heel', 'right_thumb4', 'right_thumb3',
    'right_thumb2', 'right_thumb_third_joint', 'right_forefinger4', 'right_forefinger3', 'right_forefinger2',
    'right_forefinger_third_joint', 'right_middle_finger4', 'right_middle_finger3', 'right_middle_finger2',
    'right_middle_finger_third_joint', 'right_ring_finger4', 'right_ring_finger3', 'right_ring_finger2',
    'right_ring_finger_third_joint', 'right_pinky_finger4', 'right_pinky_finger3', 'right_pinky_finger2',
    'right_pinky_finger_third_joint', 'right_wrist', 'left_thumb4', 'left_thumb3', 'left_thumb2',
    'left_thumb_third_joint', 'left_forefinger4', 'left_forefinger3', 'left_forefinger2',
    'left_forefinger_third_joint', 'left_middle_finger4', 'left_middle_finger3', 'left_middle_finger2',
    'left_middle_finger_third_joint', 'left_ring_finger4', 'left_ring_finger3', 'left_ring_finger2',
    'left_ring_finger_third_joint', 'left_pinky_finger4', 'left_pinky_finger3', 'left_pinky_finger2',
    'left_pinky_finger_third_joint', 'left_wrist', 'left_olecranon', 'right_olecranon', 'left_cubital_fossa',
    'right_cubital_fossa', 'left_acromion', 'right_acromion', 'neck', 'center_of_glabella', 'center_of_nose_root',
    'tip_of_nose_bridge', 'midpoint_1_of_nose_bridge', 'midpoint_2_of_nose_bridge', 'midpoint_3_of_nose_bridge',
    'center_of_labiomental_groove', 'tip_of_chin', 'upper_startpoint_of_r_eyebrow', 'lower_startpoint_of_r_eyebrow',
    'end_of_r_eyebrow', 'upper_midpoint_1_of_r_eyebrow', 'lower_midpoint_1_of_r_eyebrow',
    'upper_midpoint_2_of_r_eyebrow', 'upper_midpoint_3_of_r_eyebrow', 'lower_midpoint_2_of_r_eyebrow',
    'lower_midpoint_3_of_r_eyebrow', 'upper_startpoint_of_l_eyebrow', 'lower_startpoint_of_l_eyebrow',
    'end_of_l_eyebrow', 'upper_midpoint_1_of_l_eyebrow', 'lower_midpoint_1_of_l_eyebrow',
    'upper_midpoint_2_of_l_eyebrow', 'upper_midpoint_3_of_l_eyebrow', 'lower_midpoint_2_of_l_eyebrow',
    'lower_midpoint_3_of_l_eyebrow', 'l_inner_end_of_upper_lash_line', 'l_outer_end_of_upper_lash_line',
    'l_centerpoint_of_upper_lash_line', 'l_midpoint_2_of_upper_lash_line', 'l_midpoint_1_of_upper_lash_line',
    'l_midpoint_6_of_upper_lash_line', 'l_midpoint_5_of_upper_lash_line', 'l_midpoint_4_of_upper_lash_line',
    'l_midpoint_3_of_upper_lash_line', 'l_outer_end_of_upper_eyelid_line', 'l_midpoint_6_of_upper_eyelid_line',
    'l_midpoint_2_of_upper_eyelid_line', 'l_midpoint_5_of_upper_eyelid_line', 'l_centerpoint_of_upper_eyelid_line',
    'l_midpoint_4_of_upper_eyelid_line', 'l_midpoint_1_of_upper_eyelid_line', 'l_midpoint_3_of_upper_eyelid_line',
    'l_midpoint_6_of_upper_crease_line', 'l_midpoint_2_of_upper_crease_line', 'l_midpoint_5_of_upper_crease_line',
    'l_centerpoint_of_upper_crease_line', 'l_midpoint_4_of_upper_crease_line', 'l_midpoint_1_of_upper_crease_line',
    'l_midpoint_3_of_upper_crease_line', 'r_inner_end_of_upper_lash_line', 'r_outer_end_of_upper_lash_line',
    'r_centerpoint_of_upper_lash_line', 'r_midpoint_1_of_upper_lash_line', 'r_midpoint_2_of_upper_lash_line',
    'r_midpoint_3_of_upper_lash_line', 'r_midpoint_4_of_upper_lash_line', 'r_midpoint_5_of_upper_lash_line',
    'r_midpoint_6_of_upper_lash_line', 'r_outer_end_of_upper_eyelid_line', 'r_midpoint_3_of_upper_eyelid_line',
    'r_midpoint_1_of_upper_eyelid_line', 'r_midpoint_4_of_upper_eyelid_line', 'r_centerpoint_of_upper_eyelid_line',
    'r_midpoint_5_of_upper_eyelid_line', 'r_midpoint_2_of_upper_eyelid_line', 'r_midpoint_6_of_upper_eyelid_line',
    'r_midpoint_3_of_upper_crease_line', 'r_midpoint_1_of_upper_crease_line', 'r_midpoint_4_of_upper_crease_line',
    'r_centerpoint_of_upper_crease_line', 'r_midpoint_5_of_upper_crease_line', 'r_midpoint_2_of_upper_crease_line',
    'r_midpoint_6_of_upper_crease_line', 'l_inner_end_of_lower_lash_line', 'l_outer_end_of_lower_lash_line',
    'l_centerpoint_of_lower_lash_line', 'l_midpoint_2_of_lower_lash_line', 'l_midpoint_1_of_lower_lash_line',
    'l_midpoint_6_of_lower_lash_line', 'l_midpoint_5_of_lower_lash_line', 'l_midpoint_4_of_lower_lash_line',
    'l_midpoint_3_of_lower_lash_line', 'l_outer_end_of_lower_eyelid_line', 'l_midpoint_6_of_lower_eyelid_line',
    'l_midpoint_2_of_lower_eyelid_line', 'l_midpoint_5_of_lower_eyelid_line', 'l_centerpoint_of_lower_eyelid_line',
    'l_midpoint_4_of_lower_eyelid_line', 'l_midpoint_1_of_lower_eyelid_line', 'l_midpoint_3_of_lower_eyelid_line',
    'r_inner_end_of_lower_lash_line', 'r_outer_end_of_lower_lash_line', 'r_centerpoint_of_lower_lash_line',
    'r_midpoint_1_of_lower_lash_line', 'r_midpoint_2_of_lower_lash_line', 'r_midpoint_3_of_lower_lash_line',
    'r_midpoint_4_of_lower_lash_line', 'r_midpoint_5_of_lower_lash_line', 'r_midpoint_6_of_lower_lash_line',
    'r_outer_end_of_lower_eyelid_line', 'r_midpoint_3_of_lower_eyelid_line', 'r_midpoint_1_of_lower_eyelid_line',
    'r_midpoint_4_of_lower_eyelid_line', 'r_centerpoint_of_lower_eyelid_line', 'r_midpoint_5_of_lower_eyelid_line',
    'r_midpoint_2_of_lower_eyelid_line', 'r_midpoint_6_of_lower_eyelid_line', 'tip_of_nose', 'bottom_center_of_nose',
    'r_outer_corner_of_nose', 'l_outer_corner_of_nose', 'inner_corner_of_r_nostril', 'outer_corner_of_r_nostril',
    'upper_corner_of_r_nostril', 'inner_corner_of_l_nostril', 'outer_corner_of_l_nostril',
    'upper_corner_of_l_nostril', 'r_outer_corner_of_mouth', 'l_outer_corner_of_mouth', 'center_of_cupid_bow',
    'center_of_lower_outer_lip', 'midpoint_1_of_upper_outer_lip', 'midpoint_2_of_upper_outer_lip',
    'midpoint_1_of_lower_outer_lip', 'midpoint_2_of_lower_outer_lip', 'midpoint_3_of_upper_outer_lip',
    'midpoint_4_of_upper_outer_lip', 'midpoint_5_of_upper_outer_lip', 'midpoint_6_of_upper_outer_lip',
    'midpoint_3_of_lower_outer_lip', 'midpoint_4_of_lower_outer_lip', 'midpoint_5_of_lower_outer_lip',
    'midpoint_6_of_lower_outer_lip', 'r_inner_corner_of_mouth', 'l_inner_corner_of_mouth',
    'center_of_upper_inner_lip', 'center_of_lower_inner_lip', 'midpoint_1_of_upper_inner_lip',
    'midpoint_2_of_upper_inner_lip', 'midpoint_1_of_lower_inner_lip', 'midpoint_2_of_lower_inner_lip',
    'midpoint_3_of_upper_inner_lip', 'midpoint_4_of_upper_inner_lip', 'midpoint_5_of_upper_inner_lip',
    'midpoint_6_of_upper_inner_lip', 'midpoint_3_of_lower_inner_lip', 'midpoint_4_of_lower_inner_lip',
    'midpoint_5_of_lower_inner_lip', 'midpoint_6_of_lower_inner_lip', 'l_top_end_of_inferior_crus',
    'l_top_end_of_superior_crus', 'l_start_of_antihelix', 'l_end_of_antihelix', 'l_midpoint_1_of_antihelix',
    'l_midpoint_1_of_inferior_crus', 'l_midpoint_2_of_antihelix', 'l_midpoint_3_of_antihelix',
    'l_point_1_of_inner_helix', 'l_point_2_of_inner_helix', 'l_point_3_of_inner_helix', 'l_point_4_of_inner_helix',
    'l_point_5_of_inner_helix', 'l_point_6_of_inner_helix', 'l_point_7_of_inner_helix',
    'l_highest_point_of_antitragus', 'l_bottom_point_of_tragus', 'l_protruding_point_of_tragus',
    'l_top_point_of_tragus', 'l_start_point_of_crus_of_helix', 'l_deepest_point_of_concha', 'l_tip_of_ear_lobe',
    'l_midpoint_between_22_15', 'l_bottom_connecting_point_of_ear_lobe', 'l_top_connecting_point_of_helix',
    'l_point_8_of_inner_helix', 'r_top_end_of_inferior_crus', 'r_top_end_of_superior_crus', 'r_start_of_antihelix',
    'r_end_of_antihelix', 'r_midpoint_1_of_antihelix', 'r_midpoint_1_of_inferior_crus', 'r_midpoint_2_of_antihelix',
    'r_midpoint_3_of_antihelix', 'r_point_1_of_inner_helix', 'r_point_8_of_inner_helix', 'r_point_3_of_inner_helix',
    'r_point_4_of_inner_helix', 'r_point_5_of_inner_helix', 'r_point_6_of_inner_helix', 'r_point_7_of_inner_helix',
    'r_highest_point_of_antitragus', 'r_bottom_point_of_tragus', 'r_protruding_point_of_tragus',
    'r_top_point_of_tragus', 'r_start_point_of_crus_of_helix', 'r_deepest_point_of_concha', 'r_tip_of_ear_lobe',
    'r_midpoint_between_22_15', 'r_bottom_connecting_point_of_ear_lobe', 'r_top_connecting_point_of_helix',
    'r_point_2_of_inner_helix', 'l_center_of_iris', 'l_border_of_iris_3', 'l_border_of_iris_midpoint_1',
    'l_border_of_iris_12', 'l_border_of_iris_midpoint_4', 'l_border_of_iris_9', 'l_border_of_iris_midpoint_3',
    'l_border_of_iris_6', 'l_border_of_iris_midpoint_2', 'r_center_of_iris', 'r_border_of_iris_3',
    'r_border_of_iris_midpoint_1', 'r_border_of_iris_12', 'r_border_of_iris_midpoint_4', 'r_border_of_iris_9',
    'r_border_of_iris_midpoint_3', 'r_border_of_iris_6', 'r_border_of_iris_midpoint_2', 'l_center_of_pupil',
    'l_border_of_pupil_3', 'l_border_of_pupil_midpoint_1', 'l_border_of_pupil_12', 'l_border_of_pupil_midpoint_4',
    'l_border_of_pupil_9', 'l_border_of_pupil_midpoint_3', 'l_border_of_pupil_6', 'l_border_of_pupil_midpoint_2',
    'r_center_of_pupil', 'r_border_of_pupil_3', 'r_border_of_pupil_midpoint_1', 'r_border_of_pupil_12',
    'r_border_of_pupil_midpoint_4', 'r_border_of_pupil_9', 'r_border_of_pupil_midpoint_3', 'r_border_of_pupil_6',
    'r_border_of_pupil_midpoint_2',
)
"""The 308 Goliath keypoint names in the order of Sapiens2's heatmap channels."""

GOLIATH_FLIP_INDICES = (
    0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 18, 19, 20, 15, 16, 17, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37,
    38, 39, 40, 41, 64, 63, 66, 65, 68, 67, 69, 70, 71, 72, 73, 74, 75, 76, 77, 87, 88, 89, 90, 91, 93, 92, 95, 94,
    78, 79, 80, 81, 82, 84, 83, 86, 85, 120, 121, 122, 123, 124, 125, 126, 127, 128, 129, 130, 131, 132, 133, 134,
    135, 136, 137, 138, 139, 140, 141, 142, 143, 96, 97, 98, 99, 100, 101, 102, 103, 104, 105, 106, 107, 108, 109,
    110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172,
    173, 174, 175, 176, 177, 144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158, 159, 160,
    178, 179, 181, 180, 185, 186, 187, 182, 183, 184, 189, 188, 190, 191, 193, 192, 195, 194, 199, 198, 197, 196,
    203, 202, 201, 200, 205, 204, 206, 207, 209, 208, 211, 210, 215, 214, 213, 212, 219, 218, 217, 216, 246, 247,
    248, 249, 250, 251, 252, 253, 254, 255, 256, 257, 258, 259, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269,
    270, 271, 220, 221, 222, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236, 237, 238, 239,
    240, 241, 242, 243, 244, 245, 281, 286, 285, 284, 283, 282, 289, 288, 287, 272, 277, 276, 275, 274, 273, 280,
    279, 278, 299, 304, 303, 302, 301, 300, 307, 306, 305, 290, 295, 294, 293, 292, 291, 298, 297, 296,
)
"""Channel i becomes channel GOLIATH_FLIP_INDICES[i] under a horizontal flip (Meta's `swap`)."""

_HANDS = [("thumb", "thumb"), ("forefinger", "forefinger"), ("middle_finger", "middle_finger"),
          ("ring_finger", "ring_finger"), ("pinky_finger", "pinky_finger")]


def _coco_wholebody_names() -> list[str]:
    """COCO-WholeBody's 133 names in mmpose's metainfo order (body, feet, face-0..67, left hand, right hand)."""
    body = ["nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
            "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
            "right_knee", "left_ankle", "right_ankle"]
    feet = ["left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel"]
    face = [f"face-{i}" for i in range(68)]
    hands = []
    for side in ("left", "right"):
        hands.append(f"{side}_hand_root")
        for finger, _ in _HANDS:
            hands += [f"{side}_{finger}{j}" for j in range(1, 5)]
    return body + feet + face + hands


COCO_WHOLEBODY_NAMES = tuple(_coco_wholebody_names())

_FACE = {  # iBUG 300-W face index -> Goliath name (anatomical landmarks both sets define)
    8: "tip_of_chin",
    27: "center_of_nose_root",
    30: "tip_of_nose",
    31: "r_outer_corner_of_nose",
    33: "bottom_center_of_nose",
    35: "l_outer_corner_of_nose",
    36: "r_outer_end_of_upper_eyelid_line",
    39: "r_inner_end_of_upper_lash_line",
    42: "l_inner_end_of_upper_lash_line",
    45: "l_outer_end_of_upper_eyelid_line",
    48: "r_outer_corner_of_mouth",
    51: "center_of_cupid_bow",
    54: "l_outer_corner_of_mouth",
    57: "center_of_lower_outer_lip",
    60: "r_inner_corner_of_mouth",
    62: "center_of_upper_inner_lip",
    64: "l_inner_corner_of_mouth",
    66: "center_of_lower_inner_lip",
}


def _mapping() -> dict[int, str]:
    """COCO-WholeBody index -> Goliath name, for every COCO point with a counterpart (see module doc)."""
    goliath = set(GOLIATH_308)
    out = {i: name for i, name in enumerate(COCO_WHOLEBODY_NAMES) if name in goliath}  # Meta's exact names
    for side in ("left", "right"):
        out[COCO_WHOLEBODY_NAMES.index(f"{side}_hand_root")] = f"{side}_wrist"
        for finger, _ in _HANDS:
            out[COCO_WHOLEBODY_NAMES.index(f"{side}_{finger}1")] = f"{side}_{finger}_third_joint"
    for face_index, name in _FACE.items():
        out[23 + face_index] = name
    return dict(sorted(out.items()))


COCO_WHOLEBODY_FROM_GOLIATH: dict[int, str] = _mapping()
_COCO_IDX = np.array(list(COCO_WHOLEBODY_FROM_GOLIATH), dtype=np.int64)
_GOLIATH_IDX = np.array([GOLIATH_308.index(n) for n in COCO_WHOLEBODY_FROM_GOLIATH.values()], dtype=np.int64)


def goliath_to_coco_wholebody(keypoints: np.ndarray) -> np.ndarray:
    """(..., 308, 3) [x, y, score] -> (..., 133, 3); points without a counterpart are [0, 0, 0]."""
    keypoints = np.asarray(keypoints, dtype=np.float32)
    if keypoints.shape[-2:] != (len(GOLIATH_308), 3):
        raise ValueError(f"expected (..., 308, 3) Goliath keypoints, got {keypoints.shape}")
    out = np.zeros(keypoints.shape[:-2] + (NUM_KEYPOINTS, 3), dtype=np.float32)
    out[..., _COCO_IDX, :] = keypoints[..., _GOLIATH_IDX, :]
    return out
