"""Hand keypoints against the kit's real 21-point hand ground truth (../shared/realdata/hands), through the
real code paths, always with a hand model run on the pixels (bench/hands_accuracy.py writes bench/HANDS.md).

- Hand crops (OneHand10K, FreiHAND, RHD, InterHand2.6M): the model is handed a box (the whole crop), never
  the landmarks: the pose stage runs on that box and the hands stage's rule turns its 133 points into hands.
- Panoptic frames: the whole curation pipeline over loopback (detection -> pose -> hands), relaxed person rule.
- With hands.refine on, the hands stage adds MediaPipe Hands on an upscaled region (around each hand the pose
  model found, each wrist without one, the person box when it found none), each hand re-read by the landmark
  model on its own tracking region, and a landmark-model search of the person box where nothing found a
  hand; a hand replaces the pose model's of the same side where its score is higher.

Each distinct picture/pose counts once: the Panoptic _l/_r files are byte-identical (one is scored), and the
FreiHAND copies of one pose (identical GT, new backgrounds) each weigh 1/copies.
Scores per GT hand: found (a predicted hand whose keypoint box overlaps the GT keypoint box at IoU >= 0.1,
matched one-to-one), PCK@0.2 of the GT keypoint box's long side (missed hands count 0), side right (over hands
with a GT side; a missed hand is not right), and the keypoint-box IoU of found hands. Per dataset, `extra`
counts predicted hands matched to no GT hand (false hands, or real hands the dataset does not label).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humanverse.accuracy.metrics import match_boxes
from humanverse.models.box_overlap import box_iou
from humanverse.models.pose.hand_landmarks import points_box

CROP_DATASETS = ("onehand10k", "freihand", "rhd", "interhand2.6m")
FRAME_DATASETS = ("panoptic",)
MIN_IOU = 0.1
LARGE_PX = 60.0
"""Issue 27's size cut: the GT keypoint box's long side. hands.quality.min_box_px (64) is on a square of 1.5 x
the keypoints' extent, about 43 px in this unit."""


@dataclass
class GTHand:
    side: str | None
    keypoints: np.ndarray
    """21 x 3 [x, y, labelled] in the standard order (MediaPipe's)."""
    size: float
    weight: float = 1.0

    @property
    def box(self) -> list[float]:
        pts = self.keypoints[self.keypoints[:, 2] > 0, :2]
        return [*pts.min(0), *pts.max(0)]


@dataclass
class HandPhoto:
    name: str
    path: Path
    dataset: str
    width: int
    height: int
    hands: list[GTHand] = field(default_factory=list)


def hands_dir() -> Path:
    from humanverse.accuracy.ground_truth import people_dir

    return people_dir().parent / "hands"


def load() -> list[HandPhoto]:
    """The kit's hand photos (not the COCO ones in people/), one per distinct picture, FreiHAND weighted."""
    root = hands_dir().parent
    index = json.loads((root / "hands" / "ground_truth_index.json").read_text())["images"]
    seen, photos = set(), []
    for e in index:
        if not e["file"].startswith("hands/") or e["sha256"] in seen:
            continue
        seen.add(e["sha256"])
        photo = HandPhoto(Path(e["file"]).name, root / e["file"], e["dataset"], e["width"], e["height"])
        for h in e["hands"]:
            kp = np.asarray(h["keypoints_std21"], dtype=np.float64)
            kp[:, 2] = kp[:, 2] > 0
            photo.hands.append(GTHand(h.get("handedness"), kp, float(h["hand_size_px"])))
        photos.append(photo)
    copies = defaultdict(list)
    for p in photos:
        if p.dataset == "freihand":
            copies[tuple(np.round(p.hands[0].keypoints[:, :2], 1).ravel())].append(p)
    for group in copies.values():
        for p in group:
            for h in p.hands:
                h.weight = 1.0 / len(group)
    return photos


class Tally:
    def __init__(self):
        self.hands = self.found = self.sided = self.side_right = self.hits = self.labelled = self.extra = 0.0
        self.ious: list[float] = []

    def add(self, gt: GTHand, pred: dict | None) -> None:
        w = gt.weight
        labelled = gt.keypoints[:, 2] > 0
        self.hands += w
        self.labelled += w * labelled.sum()
        if gt.side:
            self.sided += w
        if pred is None:
            return
        self.found += w
        d = np.linalg.norm(np.asarray(pred["keypoints"], dtype=np.float64)[:, :2] - gt.keypoints[:, :2], axis=1)
        self.hits += w * float((d[labelled] <= 0.2 * gt.size).sum())
        if gt.side and pred["side"] == gt.side:
            self.side_right += w
        self.ious.append(float(box_iou(np.array([points_box(pred["keypoints"])]), np.array([gt.box]))[0, 0]))

    def row(self) -> dict:
        return {"hands": self.hands, "found": self.found / self.hands if self.hands else None,
                "pck": self.hits / self.labelled if self.labelled else None,
                "side": self.side_right / self.sided if self.sided else None, "sided": self.sided,
                "iou": float(np.mean(self.ious)) if self.ious else None, "extra": self.extra}


def score(photos: list[HandPhoto], predictions: dict[str, list[dict]]) -> dict:
    """{dataset or 'all' or 'all, >= 60 px': Tally.row()} plus per-photo rows."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    per_photo = []
    for p in photos:
        preds = predictions.get(p.name, [])
        pairs = match_boxes([h.box for h in p.hands], [points_box(h["keypoints"]) for h in preds], MIN_IOU) if preds else []
        matched = dict(pairs)
        t = Tally()
        for g, gt in enumerate(p.hands):
            pred = preds[matched[g]] if g in matched else None
            keys = [p.dataset, "all"] + (["all, >= 60 px"] if gt.size >= LARGE_PX else [])
            for k in keys:
                tallies[k].add(gt, pred)
            t.add(gt, pred)
        extra = (len(preds) - len(pairs)) * (p.hands[0].weight if p.hands else 1.0)
        for k in (p.dataset, "all"):
            tallies[k].extra += extra
        per_photo.append((p, t.row(), [h["side"] for h in preds]))
    return {"rows": {k: v.row() for k, v in tallies.items()}, "per_photo": per_photo}


def crop_predictions(cfg, photos: list[HandPhoto]) -> dict[str, list[dict]]:
    """Hand crops: the pose stage on the whole crop as the person box, then the hands stage (with its
    MediaPipe Hands refinement when cfg.hands.refine), as curation runs them on a row."""
    from humanverse.accuracy import pipeline_run
    from humanverse.core.sample import Sample
    from humanverse.stages.hands import HandsStage

    crops = [p for p in photos if p.dataset in CROP_DATASETS]
    poses = pipeline_run.pose_on_boxes(cfg, [(p.path.read_bytes(), [[0, 0, p.width, p.height]]) for p in crops])
    stage = HandsStage(cfg.hands)
    stage.ensure_setup()
    out = {}
    for p, kps in zip(crops, poses):
        sample = Sample(key="000000000", task_id="hand-kit", source={})
        sample.image, sample.width, sample.height = _rgb(p.path), p.width, p.height
        sample.persons = [{"box": [0.0, 0.0, float(p.width), float(p.height)], "keypoints": kps[0].tolist()}]
        stage.annotate(sample)
        out[p.name] = sample.persons[0].get("hands", [])
    return out


def frame_predictions(cfg, photos: list[HandPhoto], work: Path) -> dict[str, list[dict]]:
    """Full frames: the curation pipeline (detect -> pose -> hands) over loopback; every person's hands."""
    from humanverse.accuracy import pipeline_run

    frames = [p for p in photos if p.dataset in FRAME_DATASETS]
    results = pipeline_run.curate_folder(hands_dir(), [p.name for p in frames], work, cfg)
    return {p.name: [h for person in (results[p.name]["json"] or {}).get("persons", []) for h in person.get("hands", [])]
            for p in frames}


def _rgb(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
