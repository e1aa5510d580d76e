"""The shared real photos' ground truth (../shared/realdata/people), read into COCO-WholeBody layout.

people/ground_truth_index.json says which annotation file (and which image in it) belongs to each photo;
the annotation files are the source of truth. Each person becomes a box and 133 x [x, y, v] keypoints in
COCO-WholeBody order, v > 0 only where the dataset labelled a joint that has a COCO-WholeBody counterpart
(keypoint_defs). The COCO photos are read from the COCO-WholeBody file, a superset of the COCO one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from humanverse.accuracy.keypoint_defs import DEFINITIONS

NUM_KEYPOINTS = 133
EXHAUSTIVE = frozenset({"coco", "coco_wholebody", "crowdpose", "mhp", "humanart"})
"""Datasets whose photos here have every person annotated (MANIFEST.md, 'Not obtained / limits')."""
# annotation file -> dataset; for photos with several files, the first listed here wins.
ANNOTATION_FILES = {
    "mmpose_coco_test_coco_wholebody.json": "coco_wholebody",
    "mmpose_coco_test_coco.json": "coco",
    "mmpose_ochuman_test_ochuman.json": "ochuman",
    "mmpose_humanart_test_humanart.json": "humanart",
    "mmpose_posetrack18_test_posetrack18_val.json": "posetrack18",
    "mmpose_crowdpose_test_crowdpose.json": "crowdpose",
    "mmpose_aic_test_aic.json": "aic",
    "mmpose_mpii_test_mpii.json": "mpii",
    "mmpose_mhp_test_mhp.json": "mhp",
    "mmpose_exlpose_test_exlpose.json": "exlpose",
}


@dataclass
class GTPerson:
    box: list[float]
    """x0, y0, x1, y1 in image pixels."""
    keypoints: np.ndarray
    """133 x 3 [x, y, v], COCO-WholeBody order; v > 0 where labelled and comparable."""
    area: float
    """For OKS: the COCO segmentation area where the file has one, else the box area."""
    wholebody: bool = False


@dataclass
class GTImage:
    name: str
    path: Path
    dataset: str
    width: int
    height: int
    persons: list[GTPerson] = field(default_factory=list)

    @property
    def exhaustive(self) -> bool:
        return self.dataset in EXHAUSTIVE


def people_dir(repo_root: Path | None = None) -> Path:
    """The shared photos: $HUMANVERSE_REALDATA/people, else ../shared/realdata/people beside the checkout,
    else /work/shared/realdata/people (where the project's machines keep it)."""
    import os

    root = repo_root or Path(__file__).resolve().parents[2]
    candidates = [Path(os.environ["HUMANVERSE_REALDATA"])] if os.environ.get("HUMANVERSE_REALDATA") else []
    candidates += [root.parent / "shared" / "realdata", Path("/work/shared/realdata")]
    for c in candidates:
        if (c / "people" / "ground_truth_index.json").is_file():
            return c / "people"
    raise FileNotFoundError(f"no shared realdata/people with ground_truth_index.json in {[str(c) for c in candidates]}")


def load(people: Path | None = None, names: list[str] | None = None) -> list[GTImage]:
    """Every photo with person ground truth (or only `names`), in the index's order."""
    people = people or people_dir()
    index = json.loads((people / "ground_truth_index.json").read_text())["images"]
    cache: dict[str, object] = {}
    out = []
    for name, entry in index.items():
        if names is not None and name not in names:
            continue
        files = {Path(g["annotation_file"]).name: g for g in entry.get("gt", [])}
        chosen = next((f for f in ANNOTATION_FILES if f in files), None)
        if chosen is None:
            continue
        if chosen not in cache:
            cache[chosen] = json.loads((people / "annotations" / chosen).read_text())
        dataset = ANNOTATION_FILES[chosen]
        image = GTImage(name, people / name, dataset, int(entry["width"]), int(entry["height"]))
        if dataset == "mpii":
            image.persons = _mpii_persons(cache[chosen], name.split("_", 1)[1])
        else:
            image.persons = _coco_format_persons(cache[chosen], files[chosen]["file_name_in_json"], dataset)
        out.append(image)
    return out


def _coco_format_persons(doc: dict, file_name: str, dataset: str) -> list[GTPerson]:
    image_ids = [im["id"] for im in doc["images"] if im["file_name"] == file_name]
    if len(image_ids) != 1:
        raise ValueError(f"{file_name}: {len(image_ids)} image entries in the {dataset} annotations")
    mapping = DEFINITIONS[dataset].to_wholebody()
    persons = []
    for ann in doc["annotations"]:
        if ann["image_id"] != image_ids[0] or ann.get("category_id", 1) != 1:
            continue
        x, y, w, h = ann["bbox"]
        kp = np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
        src = np.asarray(ann["keypoints"], dtype=np.float32).reshape(-1, 3)
        for j, target in enumerate(mapping):
            if target is not None and src[j, 2] > 0:
                kp[target] = src[j]
        wholebody = dataset == "coco_wholebody"
        if wholebody:
            for key, start, valid in (("foot_kpts", 17, "foot_valid"), ("face_kpts", 23, "face_valid"),
                                      ("lefthand_kpts", 91, "lefthand_valid"), ("righthand_kpts", 112, "righthand_valid")):
                part = np.asarray(ann[key], dtype=np.float32).reshape(-1, 3)
                if ann.get(valid, True):
                    kp[start : start + len(part)] = np.where(part[:, 2:3] > 0, part, 0)
        area = float(ann["area"]) if ann.get("area") and "segmentation" in ann else float(w * h)
        persons.append(GTPerson([x, y, x + w, y + h], kp, area, wholebody))
    return persons


def _mpii_persons(doc: list, file_name: str) -> list[GTPerson]:
    """MPII has no box: the box is the labelled joints' extent, widened by 15% (10% above for the head)."""
    mapping = DEFINITIONS["mpii"].to_wholebody()
    persons = []
    for ann in doc:
        if ann["image"] != file_name:
            continue
        joints = np.asarray(ann["joints"], dtype=np.float32)
        vis = np.asarray(ann["joints_vis"], dtype=np.float32)
        labelled = joints[(vis > 0) & (joints[:, 0] > 0)]
        kp = np.zeros((NUM_KEYPOINTS, 3), dtype=np.float32)
        for j, target in enumerate(mapping):
            if target is not None and vis[j] > 0 and joints[j, 0] > 0:
                kp[target] = (*joints[j], 2.0)
        (x0, y0), (x1, y1) = labelled.min(axis=0), labelled.max(axis=0)
        pad_x, pad_y = 0.15 * (x1 - x0), 0.1 * (y1 - y0)
        box = [float(x0 - pad_x), float(y0 - pad_y), float(x1 + pad_x), float(y1 + pad_y)]
        persons.append(GTPerson(box, kp, (box[2] - box[0]) * (box[3] - box[1])))
    return persons


RESEARCH_ONLY = ("crowdpose", "ochuman", "aic", "mhp", "humanart", "posetrack18", "mpii", "exlpose", "wflw",
                 "deepfashion2", "freihand", "interhand2.6m", "panoptic")
"""File-name prefixes of the kit's research-only / non-commercial pictures (realdata/MANIFEST.md: MPII,
PoseTrack, AIC, CrowdPose, OCHuman, MHP, Human-Art, ExLPose, WFLW, DeepFashion2; FreiHAND research only,
InterHand2.6M CC BY-NC, Panoptic frames from MPII / NZSL video). Fine to score, never to ship."""


def research_only(name: str) -> bool:
    return Path(name).name.lower().startswith(RESEARCH_ONLY)


def people_free(people: Path | None = None) -> list[str]:
    """Photos the kit lists as holding no person (animals, objects): every box found there is a false positive."""
    people = people or people_dir()
    index = json.loads((people / "ground_truth_index.json").read_text())["images"]
    return [name for name, e in index.items() if str(e.get("category", "")).startswith("0 people")]


def people_dir_or_none() -> Path | None:
    try:
        return people_dir()
    except FileNotFoundError:
        return None
