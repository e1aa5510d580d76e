"""Held-out eval samples from contract shards (DESIGN §5): caption, real image, condition persons.

Only `.jpg`, `.txt` and `.json` are read, so any curated shard serves, with or without depth and normals.
Samples are taken in shard order (shards sorted by name), the first N with at least one person, so the set
is the same on every run and a resumed eval scores the same samples. Every sample is framed as the
samplers frame a condition: the largest centred square (the paper centre-crops COCO val to 512), resized.

Shards may come from others (humanverse/shards/untrusted.py): keys are checked before they name a file under
the eval's output (generated/{key}.png), members are capped by header size, the jpg decodes under the
reader's pixel cap, and only the centred square is kept, at most MAX_SIDE a side (not the full-size photo).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import webdataset as wds

from humanverse.eval.pose_accuracy import Condition
from humanverse.train.sampling.condition_inputs import Keypoints
from humanverse.train.common.joint_crop import centre_square_box, crop_keypoints, crop_resize, scale_keypoints
from humanverse.train.common.pose_render import NUM_KEYPOINTS
from humanverse.shards.untrusted import (
    BadSample, decode_array, decode_each, declared_size, json_object, persons_of, shard_samples,
)
from humanverse.sources.globs import expand

READ_MEMBERS = {"jpg", "json", "txt"}
MAX_SIDE = 2048
"""The side a held-out image is kept at, at most (eval frames at 512 or 1024)."""


@dataclass
class HeldOut:
    key: str
    caption: str
    image: np.ndarray  # upright RGB uint8: the stored image's centred square, at most MAX_SIDE a side
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


def read_heldout(data: str | list[str], limit: int, skipped: Counter | None = None) -> list[HeldOut]:
    """The first `limit` samples with persons and keypoints; samples without them are passed over, and bad
    ones counted in `skipped` by reason."""
    found: list[HeldOut] = []
    skipped = skipped if skipped is not None else Counter()
    pipeline = wds.DataPipeline(wds.SimpleShardList(expand(data, what="--data", must_exist=False)),
                                wds.filters.pipelinefilter(shard_samples)(skipped, suffixes=READ_MEMBERS))
    for item in decode_each(pipeline, _parse, skipped):
        found.append(item)
        if len(found) >= limit:
            break
    return found


def _parse(raw: dict) -> HeldOut | None:
    """None for a sample without persons; BadSample for one that breaks the contract."""
    if not {"jpg", "json"} <= set(raw):
        return None
    meta = json_object(raw["json"])
    persons = [p for p in persons_of(meta) if p.get("keypoints") is not None]
    if not persons:
        return None
    image = decode_array(raw["jpg"], "RGB")
    height, width = image.shape[:2]
    src_w, src_h = declared_size(meta, width, height)
    sx, sy = width / src_w, height / src_h
    try:
        source = [np.asarray(p["keypoints"], np.float32).reshape(NUM_KEYPOINTS, 3) for p in persons]
        boxes = np.array([_box(p, kp) for p, kp in zip(persons, source)], np.float32).reshape(-1, 4) * [sx, sy, sx, sy]
    except (ValueError, KeyError, TypeError):
        raise BadSample("bad_keypoints") from None
    points = [scale_keypoints(kp, sx, sy) for kp in source]
    # keep only what every eval frame uses: the centred square, at most MAX_SIDE a side
    square = centre_square_box(width, height)
    side = min(square.width, MAX_SIDE)
    image = crop_resize(image, square, side)
    points = [crop_keypoints(kp, square, side) for kp in points]
    boxes = (boxes - np.array([square.x0, square.y0, square.x0, square.y0], np.float32)) * (side / square.width)
    caption = raw.get("txt", b"")
    caption = caption.decode("utf-8", "replace") if isinstance(caption, bytes) else str(caption)
    return HeldOut(raw["__key__"], caption.strip(), image, Keypoints(points, side, side), boxes.astype(np.float32))


def _box(person: dict, keypoints: np.ndarray) -> list[float]:
    if person.get("box") is not None:
        return [float(v) for v in person["box"]]
    seen = keypoints[keypoints[:, 2] > 0]
    return [*seen[:, :2].min(0), *seen[:, :2].max(0)] if len(seen) else [0.0, 0.0, 1.0, 1.0]
