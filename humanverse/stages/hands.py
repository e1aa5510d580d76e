"""Stage (the `hands` section): per-person hands, the hand-quality flag and the optional hand mask.

Runs after every annotator (after outpaint_restore, so keypoints and masks are already in the original
frame) and costs no model: a few array operations per person, and a PNG decode + encode when the hand mask
is on. What it writes (docs/hands.md, "Hand data"; the contract shared with the hand trainer):
- persons[i]["hands"]: 0..2 hand dicts (hand_boxes.py) from the pose stage's 133 keypoints (any pose backend),
  or, for HaGRID rows, from HaGRID's landmarks (hagrid_hands.py);
- scores n_hands_visible (hands listed over all persons) and hand_quality_ok (the rule below), in the json
  and as sidecar columns, so a user filters on them without opening a tar;
- `hand_mask.png` (hand_mask.py) when `mask` is not off and the run made a person mask or body parts.
Rows with neither keypoints nor HaGRID hands (pose off) get none of these: unknown is not zero.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from humanverse.config_base import Section
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.stages.backend_table import Backend, weight_check
from humanverse.stages.hagrid_hands import attach_hagrid_hands
from humanverse.stages.hand_boxes import HandBoxConfig, box_side, hand_entry, hands_from_wholebody
from humanverse.stages.hand_mask import encode_binary, from_parts, from_person_mask


class HandQualityConfig(Section):
    """hand_quality_ok: some person has at least `min_hands` good hands; a hand is good when its mean
    keypoint score >= min_score, its visible fraction >= min_visible_frac and its box side >= min_box_px."""

    min_score: float = Field(0.5, ge=0, le=1)
    min_visible_frac: float = Field(0.8, ge=0, le=1)
    min_box_px: float = Field(64, ge=0)
    """64 px: a quarter of the hand generator's 256 px crop; smaller hands are upsampled more than 4x."""
    min_hands: int = Field(2, ge=1, le=2)
    """2: both hands of one person (the hand-first method generates each hand); 1: any one good hand."""


class HandsConfig(Section):
    box: HandBoxConfig = HandBoxConfig()
    quality: HandQualityConfig = HandQualityConfig()
    mask: Literal["off", "auto", "parts", "person_mask"] = "off"
    """hand_mask.png: auto = body-part hand classes where the parts stage ran, else the person mask inside
    the hand boxes; parts / person_mask force one (rows lacking it get no member); off = none."""
    refine: bool = False
    """MediaPipe Hands (palm detector + landmarks, in the mediapipe wheel) on an upscaled region around each
    hand the pose model found, each wrist without one, or the whole person box when it found no hand; each
    hand re-read by the landmark model on its own tracking region (mediapipe_hands.py, hand_landmarks.py).
    Its hand replaces the pose model's of the same side where its score is higher (bench/HANDS.md)."""
    refine_search: bool = True
    """With refine: where neither the pose model nor the palm detector found a hand in a person box that covers
    half the picture or more, is >= 128 px and shows no face (a hand or hand/torso close-up), the landmark model
    alone searches it (squares at four rotations). It finds what the palm detector misses (InterHand2.6M on the kit) but costs 35-100 landmark
    calls, ~0.4-1.1 s of CPU, per such person (docs/hands.md); false = skip it."""


def _hands_files(cfg: HandsConfig, models_dir: str | None):
    from humanverse.models.pose.mediapipe_hands import wheel_files

    return wheel_files()


def _load_hands(cfg: HandsConfig, files, stage: Stage):
    from humanverse.models.pose.mediapipe_hands import MediaPipeHands

    return MediaPipeHands()


REFINE_BACKENDS: dict[str, Backend] = {
    "mediapipe_hands": Backend(
        "mediapipe_hands", (), weights=lambda c: None, files=_hands_files, load=_load_hands,
        label=lambda c: "mediapipe-0.10.21-hands-full", shown=lambda c: "MediaPipe Hands refinement",
        demo="trained",
    ),
}
"""The hand refinement's table (hands.refine on): one row, read by the banner and `models check` like every
model stage's BACKENDS."""


def good_hand(hand: dict, q: HandQualityConfig) -> bool:
    return hand["score"] >= q.min_score and hand["visible_frac"] >= q.min_visible_frac and box_side(hand) >= q.min_box_px


def hand_quality_ok(persons: list[dict], q: HandQualityConfig) -> bool:
    return any(sum(good_hand(h, q) for h in p.get("hands", [])) >= q.min_hands for p in persons)


class HandsStage(Stage):
    name = "hands"
    backends = REFINE_BACKENDS

    def __init__(self, cfg: HandsConfig):
        super().__init__(Resources(num_cpus=0, batch_size=16))  # rides with the last annotator
        self.cfg = cfg
        self._hands_model = None

    @classmethod
    def used_backends(cls, cfg: HandsConfig) -> list[tuple[str, Backend]]:
        return [(cls.name, REFINE_BACKENDS["mediapipe_hands"])] if cfg.refine else []

    def setup(self) -> None:
        for _, row in self.used_backends(self.cfg):
            self._hands_model = row.load(self.cfg, row.files(self.cfg, None), self)

    def weight_checks(self):
        return [weight_check(row, self.cfg, None) for _, row in self.used_backends(self.cfg)]

    def model_ids(self) -> dict[str, str]:
        return {"hands": row.run_id(self.cfg, row.files(self.cfg, None)) for _, row in self.used_backends(self.cfg)}

    def process(self, batch: list[Sample]) -> None:
        for sample in batch:
            if sample.alive:
                self.annotate(sample)

    def annotate(self, sample: Sample) -> None:
        width, height = sample.width, sample.height
        raw = sample.meta.get("hagrid_hands")
        if raw is not None:
            leading = sample.info.get("hagrid", {}).get("leading_hand")
            unassigned = attach_hagrid_hands(sample.persons, raw, leading, width, height, self.cfg.box)
            sample.info["hands"] = {"source": "hagrid", "unassigned": unassigned}
        elif any("keypoints" in p for p in sample.persons):
            for person in sample.persons:
                if "keypoints" in person:
                    person["hands"] = hands_from_wholebody(person, width, height, self.cfg.box)
                    if self.cfg.refine:
                        person["hands"] = self._refined(sample, person)
            sample.info["hands"] = {"source": "pose"}
            if self.cfg.refine:
                self.record_models(sample, "hands")
        else:
            return
        sample.scores["n_hands_visible"] = sum(len(p.get("hands", [])) for p in sample.persons)
        sample.scores["hand_quality_ok"] = hand_quality_ok(sample.persons, self.cfg.quality)
        if self.cfg.mask != "off":
            self._mask(sample)

    def _refined(self, sample: Sample, person: dict) -> list[dict]:
        """The pose model's hands re-read by the hand landmark model, MediaPipe Hands' hands around the person,
        the landmark-model search where neither found one and the person shows no face; per side, the surer."""
        from humanverse.models.pose.mediapipe_hands import (distinct_hands, merge_hands, regions_for_person,
                                                            search_wanted)

        if self._hands_model is None:
            self.ensure_setup()
        model, rgb = self._hands_model, sample.image
        current = [self._entry(sample, model.reread(rgb, h)) or h for h in person["hands"]]
        found = [h for region in regions_for_person(person, sample.width, sample.height) for h in model(rgb, region)]
        if not found and self.cfg.refine_search and search_wanted(person, sample.width, sample.height):
            found = model.search(rgb, [float(v) for v in person["box"]])
        entries = [self._entry(sample, h) for h in distinct_hands(found)]
        return merge_hands(current, [e for e in entries if e is not None])

    def _entry(self, sample: Sample, hand: dict | None) -> dict | None:
        if hand is None:
            return None
        return hand_entry(hand["side"], hand["keypoints"], sample.width, sample.height, self.cfg.box, "mediapipe_hands")

    def _mask(self, sample: Sample) -> None:
        method = self.cfg.mask
        if method == "auto":
            method = "parts" if "parts.png" in sample.members else "person_mask"
        boxes = [h["box"] for p in sample.persons for h in p.get("hands", [])]
        if method == "parts" and "parts.png" in sample.members:
            classes = sorted(sample.info["parts"]["hand_classes"].values())
            mask = from_parts(sample.members["parts.png"], classes)
            how = {"method": "parts", "classes": classes}
        elif method == "person_mask" and "mask.png" in sample.members:
            mask = from_person_mask(sample.members["mask.png"], boxes)
            how = {"method": "person_mask", "mask_backend": sample.info.get("mask", {}).get("backend")}
        else:
            sample.info["hands"]["hand_mask_missing"] = f"hands.mask={method}: no {method} member in this row"
            return  # no json.hand_mask: the contract's readers take its presence to mean the member exists
        sample.members["hand_mask.png"] = encode_binary(mask)
        sample.info["hand_mask"] = {"member": "hand_mask.png", **how, "pixels": int(mask.sum())}
