"""Stage: bring an outpainted sample back to its original frame after the annotators ran on the canvas.

Generic over the frame contract (core/frame.py): it maps back every output some stage declares, found by
stages/frame_outputs.py, and knows no annotator. Persons get their detection boxes back; every declared
keypoint set and box is shifted into original pixels (a keypoint set that declares an `outside` flag keeps
points on the outpainted area, with the flag, instead of dropping them). Every dense map the annotators
published on the canvas is cropped to exactly the original size (resampled by its declared mode when it is
at another size) and encoded by its declared encoder, so depth ranges describe the original image only.
With write_canvas, the canvas and its canvas-frame labels are kept too (outpaint.jpg, outpaint.json,
outpaint.<map>.png).
"""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image

from humanverse.core.frame import PersonBoxes
from humanverse.imaging.outpaint_canvas import (
    box_to_canvas,
    box_to_original,
    crop_map_to_original,
    keypoints_to_original,
)
from humanverse.stages.frame_outputs import dense_map, person_geometry
from humanverse.stages.outpaint import OutpaintConfig
from humanverse.stages.outpaint_state import OutpaintState
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage


def encode_map(name: str, dense: np.ndarray) -> tuple[bytes, dict[str, float]]:
    """PNG bytes per the shard contract for a declared dense map, and the json fields it adds."""
    spec = dense_map(name)
    if spec is None:
        raise ValueError(f"no encoding for dense map {name!r}: no stage declares it (core/frame.py DenseMap)")
    return spec.encode(dense)


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
        geometry = person_geometry()
        for person, box in zip(sample.persons, state.boxes):
            on_canvas = {"box": [round(v, 2) for v in box_to_canvas(box, canvas)], "pose_box": person["box"]}
            for out in geometry:
                if out.key not in person:
                    continue
                if isinstance(out, PersonBoxes):
                    person[out.key] = [round(v, 2) for v in box_to_original(person[out.key], canvas)]
                    continue
                if out.on_canvas:
                    on_canvas[out.key] = person[out.key]
                person[out.key], outside = keypoints_to_original(person[out.key], canvas)
                if out.outside:
                    person[out.outside] = outside
            person["box"] = list(box)
            canvas_persons.append(on_canvas)
        canvas_maps = {}
        for name, dense in state.maps.items():
            spec = dense_map(name)
            png, fields = spec.encode(crop_map_to_original(dense, canvas, spec.resample))
            sample.members[f"{name}.png"] = png
            sample.info[name] = {**sample.info.get(name, {}), **fields, "member": f"{name}.png"}
            if self.cfg.write_canvas:
                png, fields = spec.encode(dense)
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
