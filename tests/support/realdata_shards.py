"""Contract shards (jpg/txt/json) built at run time from the shared real photos and their ground-truth
keypoints, for the eval self-check: the condition poses are the kit's annotations, not our annotator's.

Only annotation files in COCO's 17-keypoint order are used (COCO, OCHuman, Human-Art); the other 116 of the
133 whole-body slots get score 0, so they are neither drawn nor scored. The caption is the kit assembler's
visual note ("1 skier"): descriptive, not a dataset caption. The photos stay in ../shared/realdata; the
shards go to a temporary folder and are never committed.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import webdataset as wds
from PIL import Image, ImageOps
from tests.support.realdata import PEOPLE

COCO17_FILES = ("mmpose_coco_test_coco.json", "mmpose_ochuman_test_ochuman.json", "mmpose_humanart_test_humanart.json")


def kit_samples(people: Path = PEOPLE) -> list[dict]:
    index = json.loads((people / "ground_truth_index.json").read_text())["images"]
    docs = {name: json.loads((people / "annotations" / name).read_text()) for name in COCO17_FILES}
    samples = []
    for name, entry in sorted(index.items()):
        persons = []
        for gt in entry.get("gt", []):
            doc = docs.get(Path(gt["annotation_file"]).name)
            if doc is None:
                continue
            image_ids = [im["id"] for im in doc["images"] if im["file_name"] == gt["file_name_in_json"]]
            for ann in doc["annotations"]:
                if ann["image_id"] in image_ids and ann.get("num_keypoints", 0) > 0:
                    kp = np.zeros((133, 3), np.float32)
                    raw = np.asarray(ann["keypoints"], np.float32).reshape(17, 3)
                    kp[:17, :2], kp[:17, 2] = raw[:, :2], (raw[:, 2] > 0).astype(np.float32)
                    x, y, w, h = ann["bbox"]
                    persons.append({"box": [x, y, x + w, y + h], "score": 1.0, "keypoints": kp.tolist()})
            if persons:
                break  # one annotation file per image
        if persons:
            samples.append({"name": name, "file": people.parent / entry["file"], "persons": persons,
                            "caption": f"a photo of {entry.get('visual_count_note') or entry.get('category')}"})
    return samples


WHOLEBODY_FILE = "mmpose_coco_test_coco_wholebody.json"
WHOLEBODY_PARTS = (("keypoints", 0, 17), ("foot_kpts", 17, 6), ("face_kpts", 23, 68), ("lefthand_kpts", 91, 21),
                   ("righthand_kpts", 112, 21))


def wholebody_kit_samples(people: Path = PEOPLE) -> list[dict]:
    """The 4 COCO photos with their COCO-WholeBody ground truth (133 points; a part marked not valid gets
    score 0), for hand accuracy: the only real hand keypoints in the kit (10 valid hands of 11-31 px)."""
    doc = json.loads((people / "annotations" / WHOLEBODY_FILE).read_text())
    samples = []
    for image in sorted(doc["images"], key=lambda im: im["id"]):
        persons = []
        for ann in doc["annotations"]:
            if ann["image_id"] != image["id"] or ann.get("num_keypoints", 0) == 0:
                continue
            kp = np.zeros((133, 3), np.float32)
            for field, start, count in WHOLEBODY_PARTS:
                raw = np.asarray(ann[field], np.float32).reshape(count, 3)
                valid = ann.get(field.replace("_kpts", "_valid"), True) if field != "keypoints" else True
                kp[start:start + count, :2] = raw[:, :2]
                kp[start:start + count, 2] = (raw[:, 2] > 0).astype(np.float32) * float(valid)
            x, y, w, h = ann["bbox"]
            persons.append({"box": [x, y, x + w, y + h], "score": 1.0, "keypoints": kp.tolist()})
        samples.append({"name": image["file_name"], "file": people / f"coco_{image['file_name']}",
                        "persons": persons, "caption": "a photo of people"})
    return samples


def write_kit_shard(target: Path, people: Path = PEOPLE, wholebody: bool = False) -> tuple[Path, int]:
    """One tar of every kit photo with COCO-17 ground truth (wholebody: the 4 COCO-WholeBody photos with
    their 133 points instead); returns its path and the sample count."""
    target.mkdir(parents=True, exist_ok=True)
    path = target / "kit-00000.tar"
    samples = wholebody_kit_samples(people) if wholebody else kit_samples(people)
    with wds.TarWriter(str(path)) as sink:
        for i, sample in enumerate(samples):
            with Image.open(sample["file"]) as im:
                rgb = ImageOps.exif_transpose(im).convert("RGB")
                buf = io.BytesIO()
                rgb.save(buf, format="JPEG", quality=95)
                width, height = rgb.size
            meta = {"width": width, "height": height, "persons": sample["persons"],
                    "source": {"dataset": "shared-realdata", "id": sample["name"]}}
            sink.write({"__key__": f"kit{i:05d}", "jpg": buf.getvalue(), "txt": sample["caption"],
                        "json": json.dumps(meta)})
    return path, len(samples)
