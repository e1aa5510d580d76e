"""Held-out eval samples from contract shards (DESIGN §5): caption, real image, condition persons.

Only `.jpg`, `.txt` and `.json` are read, so any curated shard serves, with or without depth and normals.
Samples are taken in shard order (shards sorted by name), the first N with at least one person, so the set
is the same on every run and a resumed eval scores the same samples. Every sample is framed as the
samplers frame a condition: the largest centred square (the paper centre-crops COCO val to 512), resized.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

import numpy as np
import webdataset as wds
from PIL import Image

from humanverse.eval.pose_accuracy import Condition
from humanverse.train.sampling.condition_inputs import Keypoints
from humanverse.train.common.joint_crop import centre_square_box, crop_keypoints, crop_resize, scale_keypoints
from humanverse.train.common.pose_render import NUM_KEYPOINTS
from humanverse.sources.globs import expand


@dataclass
class HeldOut:
    key: str
    caption: str
    image: np.ndarray  # upright RGB uint8 as stored
    keypoints: Keypoints  # in pixels of `image`
    boxes: np.ndarray  # (P, 4) xyxy in pixels of `image`

    def framed_image(self, size: int) -> np.ndarray:
        box = centre_square_box(self.image.shape[1], self.image.shape[0])
        return crop_resize(self.image, box, size)

    def condition(self, size: int) -> Condition:
        """Boxes and keypoints in the size x size frame of `framed_image`."""
        box = centre_square_box(self.image.shape[1], self.image.shape[0])
        scale = size / box.width
        boxes = (self.boxes - np.array([box.x0, box.y0, box.x0, box.y0], np.float32)) * scale
        points = np.stack([crop_keypoints(kp, box, size) for kp in self.keypoints.persons])
        return Condition(boxes=boxes.astype(np.float32), keypoints=points)


def read_heldout(data: str | list[str], limit: int) -> list[HeldOut]:
    """The first `limit` samples with persons and keypoints; samples without them are passed over."""
    found: list[HeldOut] = []
    pipeline = wds.DataPipeline(wds.SimpleShardList(expand(data, what="--data", must_exist=False)), wds.tarfile_to_samples())
    for raw in pipeline:
        item = _parse(raw)
        if item is not None:
            found.append(item)
            if len(found) >= limit:
                break
    return found


def _parse(raw: dict) -> HeldOut | None:
    if not {"jpg", "json"} <= set(raw):
        return None
    try:
        meta = json.loads(raw["json"])
        persons = [p for p in meta.get("persons") or [] if p.get("keypoints") is not None]
        if not persons:
            return None
        with Image.open(io.BytesIO(raw["jpg"])) as im:
            image = np.asarray(im.convert("RGB"))
        height, width = image.shape[:2]
        sx, sy = width / meta.get("width", width), height / meta.get("height", height)
        source = [np.asarray(p["keypoints"], np.float32).reshape(NUM_KEYPOINTS, 3) for p in persons]
        boxes = np.array([_box(p, kp) for p, kp in zip(persons, source)], np.float32) * [sx, sy, sx, sy]
        points = [scale_keypoints(kp, sx, sy) for kp in source]
    except (ValueError, KeyError, TypeError, OSError):
        return None  # an unreadable sample is not a held-out sample
    caption = raw.get("txt", b"")
    caption = caption.decode("utf-8", "replace") if isinstance(caption, bytes) else str(caption)
    return HeldOut(raw["__key__"], caption.strip(), image, Keypoints(points, width, height), boxes)


def _box(person: dict, keypoints: np.ndarray) -> list[float]:
    if person.get("box") is not None:
        return [float(v) for v in person["box"]]
    seen = keypoints[keypoints[:, 2] > 0]
    return [*seen[:, :2].min(0), *seen[:, :2].max(0)] if len(seen) else [0.0, 0.0, 1.0, 1.0]
