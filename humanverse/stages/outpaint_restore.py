"""Stage: bring an outpainted sample back to its original frame after the annotators ran on the canvas.

Keeps only the labels' original-frame view in the contract fields (DESIGN §5): persons get their detection
boxes back and keypoints shifted into original pixels; keypoints on the outpainted area keep their
coordinates and gain `keypoints_outside` (one bool per keypoint) instead of being dropped. Dense maps the
annotators stashed on the canvas are cropped to exactly the original size, then min-max normalised and
encoded, so depth ranges describe the original image only. With write_canvas, the canvas and its
canvas-frame labels are kept too (outpaint.jpg, outpaint.json, outpaint.<map>.png).
"""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from humanverse.imaging.outpaint_canvas import (
    box_to_canvas,
    crop_map_to_original,
    keypoints_to_original,
)
from humanverse.stages.outpaint import OutpaintConfig
from humanverse.stages.outpaint_state import OutpaintState
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.shards.encoding import encode_depth16, encode_normal


def encode_map(name: str, dense: np.ndarray) -> tuple[bytes, dict[str, float]]:
    """PNG bytes per the shard contract for a depth* or normal* map, and the json fields it adds."""
    if name.startswith("depth"):
        return encode_depth16(dense)
    if name.startswith("normal"):
        return encode_normal(dense), {}
    raise ValueError(f"no encoding for dense map {name!r} (expected depth* or normal*)")


class OutpaintRestoreStage(Stage):
    name = "outpaint_restore"

    def __init__(self, cfg: OutpaintConfig, models_dir: str | None = None):
        super().__init__(Resources(num_cpus=0, batch_size=16))  # rides with the last annotator
        self.cfg = cfg

    def process(self, batch: list[Sample]) -> None:
        for sample in batch:
            if sample.alive and sample.canvas is not None:
                self.restore(sample)

    def restore(self, sample: Sample) -> None:
        state: OutpaintState = sample.canvas
        canvas = state.canvas
        if len(state.boxes) != len(sample.persons):
            raise ValueError(f"{sample.key}: {len(sample.persons)} persons now, {len(state.boxes)} when outpainted")
        canvas_persons = []
        for person, box in zip(sample.persons, state.boxes):
            on_canvas = {"box": [round(v, 2) for v in box_to_canvas(box, canvas)], "pose_box": person["box"]}
            if "keypoints" in person:
                on_canvas["keypoints"] = person["keypoints"]
                person["keypoints"], person["keypoints_outside"] = keypoints_to_original(person["keypoints"], canvas)
            person["box"] = list(box)
            canvas_persons.append(on_canvas)
        canvas_maps = {}
        for name, dense in state.maps.items():
            png, fields = encode_map(name, crop_map_to_original(dense, canvas))
            sample.members[f"{name}.png"] = png
            sample.info[name] = {**sample.info.get(name, {}), **fields, "member": f"{name}.png"}
            if self.cfg.write_canvas:
                png, fields = encode_map(name, dense)
                sample.members[f"outpaint.{name}.png"] = png
                canvas_maps[name] = {**fields, "member": f"outpaint.{name}.png"}
        if self.cfg.write_canvas:
            self._write_canvas(sample, canvas_persons, canvas_maps)
        if state.original is None:
            sample.set_decoded(sample.jpeg, None)  # the original is exactly {key}.jpg's pixels
        else:
            sample.image = state.original
        sample.canvas = None

    def _write_canvas(self, sample: Sample, persons: list[dict], maps: dict[str, dict]) -> None:
        canvas = sample.canvas.canvas
        buf = io.BytesIO()
        Image.fromarray(sample.image).save(buf, format="JPEG", quality=self.cfg.jpeg_quality)
        sample.members["outpaint.jpg"] = buf.getvalue()
        doc = {
            "width": canvas.canvas_width,
            "height": canvas.canvas_height,
            "canvas_box": canvas.box_in_original,
            "original_box": list(canvas.original_on_canvas),
            "persons": persons,
            "maps": maps,
        }
        sample.members["outpaint.json"] = json.dumps(doc).encode("utf-8")
        sample.info.setdefault("outpaint", {})["canvas_members"] = ["outpaint.jpg", "outpaint.json"] + [
            m["member"] for m in maps.values()
        ]
