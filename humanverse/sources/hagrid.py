"""`--input-format hagrid`: HaGRID's per-gesture annotation json, one row per image id (github.com/hukenovs/hagrid).

Field names are those of the repository's README (master = HaGRIDv2-1M, 2024; branches Hagrid_v2 and
Hagrid_v1). Three releases are read, told apart per entry:
- v2-1M (the current HaGRIDv2, 2024): bboxes, labels, united_bbox, united_label, user_id, hand_landmarks
  (21 MediaPipe [x, y] per hand, normalised), meta {age, gender, race};
- v1 (2022): bboxes, labels, landmarks (same form), leading_hand ("left"/"right": the gesturing hand),
  leading_conf, user_id;
- v2 (HaGRID 2.0, 2023): bboxes, labels, user_id only; its rows are read but list no hands (no keypoints).
Boxes are normalised [top-left x, top-left y, w, h]. A hand whose landmark list is empty (the README warns
that auto markup leaves some) is not listed.

Images are found by the README's layout, `<root>/hagrid_annotations/<split>/<gesture>.json` beside
`<root>/hagrid_dataset/<gesture>/<image id>.jpg`, or beside the json in `<gesture>/`. Every entry becomes
exactly one row: a malformed entry is an error row `bad_annotation:<field>`, an image not found one
`missing_image`, an unreadable or oversized one its read_capped reason. The hands themselves are attached to
the detected persons by the hands stage (stages/hagrid_hands.py), once the image size and persons are known.
"""

from __future__ import annotations

import json
import math
import posixpath
import re
from functools import lru_cache
from typing import Any

import fsspec

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources.image_folder import DEFAULT_MAX_BYTES, with_protocol
from humanverse.sources.input_error import InputError
from humanverse.sources.keys import sample_key
from humanverse.sources.local_files import FileRefused, read_capped

MAX_ANNOTATION_BYTES = 2 * 1024**3
"""HaGRIDv2's largest per-gesture json is far below this; a bigger file is refused, not parsed."""
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
HAND_POINTS = 21
NO_GESTURE = "no_gesture"
IMAGE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,199}")
"""HaGRID's ids are UUIDs; anything else that could name a path (separators, '..', NUL) is a bad entry."""
MAX_LABEL_CHARS = 64
MAX_EXTRA_JSON = 4096
"""united_bbox, united_label and meta are copied into the row's json only up to this size (as json text)."""


class BadEntry(ValueError):
    """A json entry that cannot be read; `field` names what is wrong (the row's reason)."""

    def __init__(self, field: str, detail: str = ""):
        super().__init__(field, detail)
        self.field = field


@lru_cache(maxsize=2)
def _load(path: str, stamp: tuple) -> dict[str, Any]:
    try:
        data = json.loads(read_capped(path, MAX_ANNOTATION_BYTES))
    except FileRefused as refused:
        raise InputError(f"{path}: not read as a HaGRID annotation file ({refused.reason})") from refused
    except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than the parser goes
        raise InputError(f"{path}: not a HaGRID annotation file (not JSON that can be read: "
                         f"{type(error).__name__}: {str(error)[:200]}); fix it or leave it out of --input") from error
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a HaGRID annotation file (the top level is not an object of image ids)")
    return data


def load_annotations(path: str) -> dict[str, Any]:
    """The parsed json, cached per file version (every task of one file reads the same parse)."""
    fs, local = fsspec.core.url_to_fs(path)
    info = fs.info(local)
    return _load(path, (info.get("size"), info.get("mtime"), info.get("ETag")))


def _number(v: Any, field: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise BadEntry(field, repr(v)[:80])
    return float(v)


def _boxes(entry: dict) -> list[list[float]]:
    boxes = entry.get("bboxes")
    if not isinstance(boxes, list) or not all(isinstance(b, list) and len(b) == 4 for b in boxes):
        raise BadEntry("bboxes")
    return [[_number(v, "bboxes") for v in b] for b in boxes]


def _landmarks(hands: Any, n_boxes: int, field: str) -> list[list[list[float]] | None]:
    """Per hand 21 [x, y] (normalised) or None for an empty list."""
    if not isinstance(hands, list) or len(hands) != n_boxes:
        raise BadEntry(field, "not one list per box")
    out = []
    for hand in hands:
        if hand in ([], None):
            out.append(None)
            continue
        points_ok = isinstance(hand, list) and all(isinstance(p, list) and len(p) >= 2 for p in hand)
        if not points_ok or len(hand) != HAND_POINTS:
            raise BadEntry(field, "not 21 [x, y] points")
        out.append([[_number(p[0], field), _number(p[1], field)] for p in hand])
    return out


def parse_entry(image_id: Any, entry: Any, gesture: str) -> tuple[dict, list[dict]]:
    """(info["hagrid"], the hands with landmarks) of one entry; raises BadEntry."""
    if not isinstance(image_id, str) or not IMAGE_ID.fullmatch(image_id) or ".." in image_id:
        raise BadEntry("image_id")
    if not isinstance(entry, dict):
        raise BadEntry("entry")
    boxes = _boxes(entry)
    labels = entry.get("labels")
    if (not isinstance(labels, list) or len(labels) != len(boxes)
            or not all(isinstance(x, str) and len(x) <= MAX_LABEL_CHARS for x in labels)):
        raise BadEntry("labels")
    if "hand_landmarks" in entry:
        version, landmarks = "v2-1M", _landmarks(entry["hand_landmarks"], len(boxes), "hand_landmarks")
    elif "landmarks" in entry or "leading_hand" in entry:
        version, landmarks = "v1", _landmarks(entry.get("landmarks", [[]] * len(boxes)), len(boxes), "landmarks")
    else:
        version, landmarks = "v2", [None] * len(boxes)
    leading = entry.get("leading_hand")
    if leading is not None and leading not in ("left", "right"):
        raise BadEntry("leading_hand")
    user = entry.get("user_id")
    info: dict[str, Any] = {"version": version, "gesture": gesture, "image_id": image_id, "labels": labels,
                            "bboxes": boxes, "user_id": user if isinstance(user, str) else None}
    if version == "v1":
        info["leading_hand"] = leading
        info["leading_conf"] = _number(entry["leading_conf"], "leading_conf") if "leading_conf" in entry else None
    if version == "v2-1M":
        for field in ("united_label", "united_bbox", "meta"):
            if field in entry and len(json.dumps(entry[field])) <= MAX_EXTRA_JSON:
                info[field] = entry[field]
    hands = [{"landmarks": lm, "label": label} for lm, label in zip(landmarks, labels) if lm is not None]
    return info, hands


def caption_for(gesture: str) -> str:
    """HaGRID has no captions; the text condition says what the hand does (docs/hands.md)."""
    if gesture == NO_GESTURE:
        return "a photo of a person with their hands in a natural pose"
    return f"a photo of a person showing the {gesture.replace('_', ' ')} hand gesture"


def image_candidates(json_path: str, gesture: str, image_id: str) -> list[str]:
    split_dir = posixpath.dirname(json_path)
    root = posixpath.dirname(posixpath.dirname(split_dir))
    folders = [posixpath.join(root, "hagrid_dataset", gesture), posixpath.join(split_dir, gesture)]
    return [posixpath.join(f, image_id + ext) for f in folders for ext in IMAGE_EXTENSIONS]


class HagridReader:
    def __init__(self, dataset: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.dataset = dataset
        self.max_bytes = max_bytes

    def count(self, path: str) -> int:
        return len(load_annotations(path))

    def read(self, spec: TaskSpec) -> list[Sample]:
        annotations = load_annotations(spec.input_path)
        fs, local = fsspec.core.url_to_fs(spec.input_path)
        gesture = posixpath.basename(local).rsplit(".", 1)[0]
        items = list(annotations.items())[spec.start : spec.stop]
        samples = []
        for index, (image_id, entry) in enumerate(items, start=spec.start):
            if not spec.selects(index):
                continue
            sample = Sample(
                key=sample_key(spec.input_index, index),
                task_id=spec.task_id,
                source={"dataset": self.dataset or "hagrid", "url": None, "source_id": str(image_id)[:200],
                        "input": spec.input_path, "row": index},
            )
            samples.append(sample)
            try:
                info, hands = parse_entry(image_id, entry, gesture)
            except BadEntry as bad:
                sample.fail("read", f"bad_annotation:{bad.field}")
                continue
            sample.info["hagrid"] = info
            sample.meta["hagrid_hands"] = hands
            sample.caption = caption_for(gesture)
            try:
                found = next((p for p in image_candidates(local, gesture, image_id) if fs.exists(p)), None)
                if found is None:
                    sample.fail("read", "missing_image")
                    continue
                sample.image_bytes = read_capped(with_protocol(found, spec.input_path), self.max_bytes)
            except FileRefused as refused:
                sample.fail("read", refused.reason)
            except (OSError, ValueError):  # a listing or stat that fails on this one entry: its row, not the task
                sample.fail("read", "unreadable")
        return samples
