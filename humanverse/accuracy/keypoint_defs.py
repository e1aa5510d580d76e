"""Each pose dataset's keypoint definition, mapped onto COCO-WholeBody 133 (the shards' layout).

A dataset joint maps to a COCO-WholeBody index only where both name the same anatomical point; the rest
(head top, neck, thorax, pelvis, upper neck, PoseTrack's head bottom) have no COCO counterpart and are not
compared. Joint orders are mmpose's dataset metainfo (configs/_base_/datasets/<name>.py, mmpose 1.1.0), the
order the shared annotation files use. Known definition gaps that remain among comparable joints: MPII /
LV-MHP hips sit higher and wider than COCO's; AIC and CrowdPose shoulders and hips are drawn at the joint
centre as in COCO. PCK@0.2 tolerates these; OKS, with COCO's tight hip sigma, penalises them a little.
"""

from __future__ import annotations

from dataclasses import dataclass

COCO17 = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
          "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
          "right_knee", "left_ankle", "right_ankle")
COCO_INDEX = {name: i for i, name in enumerate(COCO17)}
LIMBS = tuple(range(5, 17))
"""COCO shoulders, elbows, wrists, hips, knees, ankles: the 12 limb joints."""
# COCO's per-joint OKS sigmas (cocodataset.org keypoint eval; also mmpose coco.py).
COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062, 0.107, 0.107,
               0.087, 0.087, 0.089, 0.089)
PARTS = {"body": range(0, 17), "feet": range(17, 23), "big toes + heels": (17, 19, 20, 22), "face": range(23, 91),
         "left_hand": range(91, 112), "right_hand": range(112, 133)}
"""COCO-WholeBody parts scored separately; 'big toes + heels' leaves out the small toes, which MediaPipe has
no counterpart for."""


@dataclass(frozen=True)
class KeypointDef:
    dataset: str
    names: tuple[str, ...]
    """The dataset's joints, in its annotation order."""

    def to_wholebody(self) -> tuple[int | None, ...]:
        """For each dataset joint, its COCO-WholeBody index, or None when nothing comparable exists."""
        return tuple(COCO_INDEX.get(n) for n in self.names)

    def comparable(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n in COCO_INDEX)


_MPII = ("right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis", "thorax",
         "upper_neck", "head_top", "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow",
         "left_wrist")
_CROWDPOSE = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
              "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "top_head", "neck")

DEFINITIONS: dict[str, KeypointDef] = {
    "coco": KeypointDef("coco", COCO17),
    "coco_wholebody": KeypointDef("coco_wholebody", COCO17),  # + feet, face, hands, read separately
    "ochuman": KeypointDef("ochuman", COCO17),
    "humanart": KeypointDef("humanart", COCO17),  # its `keypoints` (17, COCO); keypoints_21 adds toes/fingertips
    "posetrack18": KeypointDef("posetrack18", ("nose", "head_bottom", "head_top", "left_ear", "right_ear")
                               + COCO17[5:]),
    "crowdpose": KeypointDef("crowdpose", _CROWDPOSE),
    "exlpose": KeypointDef("exlpose", _CROWDPOSE[:12] + ("head", "neck")),
    "aic": KeypointDef("aic", ("right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
                               "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee",
                               "left_ankle", "head_top", "neck")),
    "mpii": KeypointDef("mpii", _MPII),
    "mhp": KeypointDef("mhp", _MPII),
}
