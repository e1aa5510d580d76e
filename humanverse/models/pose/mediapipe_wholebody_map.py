"""Which MediaPipe landmark becomes which COCO-WholeBody keypoint (body 17, feet 6, face 68, hands 2 x 21).

Left and right are the person's own in both conventions. A COCO-WholeBody point MediaPipe has no
counterpart for is None here and gets score 0 (the small toes).

- Body: BlazePose's 33 landmarks (mediapipe/python/solutions/pose.py, PoseLandmark) include the 17 COCO
  joints under other indices.
- Feet: BlazePose has heel and foot index (the tip of the foot, between the big and second toe). COCO-WholeBody
  has big toe, small toe and heel: foot index stands in for the big toe; the small toes have no counterpart.
- Face: COCO-WholeBody's 68 face points follow the 300-W / iBUG (dlib) order. The 468-point face mesh maps
  to it through the correspondence table of Peizhi Yan's Mediapipe_2_Dlib_Landmarks
  (github.com/PeizhiYan/Mediapipe_2_Dlib_Landmarks, mediapipe2dlib/mp2dlib.py, 2024): where it lists two mesh
  points for one dlib point, their mean is used. Checked against the COCO-WholeBody faces of the shared photos
  by tests/models/test_pose_mediapipe.py.
- Hands: MediaPipe's 21 hand landmarks (wrist, then thumb, index, middle, ring, pinky, base to tip) are in the
  same order as COCO-WholeBody's 21 per hand.
"""

from __future__ import annotations

# COCO body order: nose, l/r eye, l/r ear, l/r shoulder, l/r elbow, l/r wrist, l/r hip, l/r knee, l/r ankle.
BODY_FROM_BLAZEPOSE: tuple[int, ...] = (0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28)

# COCO-WholeBody feet 17-22: left big toe, left small toe, left heel, right big toe, right small toe, right heel.
FEET_FROM_BLAZEPOSE: tuple[int | None, ...] = (31, None, 29, 32, None, 30)

# dlib / 300-W point i (0-based) <- mean of these face-mesh points.
FACE68_FROM_MESH: tuple[tuple[int, ...], ...] = (
    # jaw line, the person's right to left (image left to right for a frontal face)
    (127,), (234,), (93,), (132, 58), (58, 172), (136,), (150,), (176,), (152,),
    (400,), (379,), (365,), (397, 288), (361,), (323,), (454,), (356,),
    # right brow, left brow
    (70,), (63,), (105,), (66,), (107,),
    (336,), (296,), (334,), (293,), (300,),
    # nose bridge, then nostrils
    (168, 6), (197, 195), (5,), (4,), (75,), (97,), (2,), (326,), (305,),
    # right eye, left eye
    (33,), (160,), (158,), (133,), (153,), (144,),
    (362,), (385,), (387,), (263,), (373,), (380,),
    # outer lip: upper (corner to corner), then lower back
    (61,), (39,), (37,), (0,), (267,), (269,), (291,), (321,), (314,), (17,), (84,), (91,),
    # inner lip
    (78,), (82,), (13,), (312,), (308,), (317,), (14,), (87,),
)

BODY = slice(0, 17)
FEET = slice(17, 23)
FACE = slice(23, 91)
LEFT_HAND = slice(91, 112)
RIGHT_HAND = slice(112, 133)
