"""The frame contract (core/frame.py): a stage declares what it publishes, outpaint restore maps every
declared output back with no knowledge of the stage, and an undeclared canvas-frame output fails the sample."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from humanverse.core.frame import DenseMap, PersonBoxes, PersonPoints
from humanverse.core.sample import Sample
from humanverse.core.stage import Stage
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.imaging.outpaint_canvas import crop_map_to_original, make_canvas
from humanverse.stages.outpaint import OutpaintConfig
from humanverse.stages.outpaint_restore import OutpaintRestoreStage
from tests.stages.test_outpaint_restore import H, W, outpainted_sample


def _encode_reflectance(rgb: np.ndarray) -> tuple[bytes, dict]:
    buf = io.BytesIO()
    Image.fromarray(np.clip(rgb * 255, 0, 255).astype(np.uint8), mode="RGB").save(buf, format="PNG")
    return buf.getvalue(), {"encoding": "rgb8"}


class ReflectanceStage(Stage):
    """A new dense annotator, with a per-person point set and box of its own: nothing else knows it."""

    name = "reflectance"
    publishes = (DenseMap("reflectance", "linear", _encode_reflectance), PersonPoints("toy_points"),
                 PersonBoxes("toy_box"))

    def process(self, batch):
        for s in self.alive(batch):
            s.info["reflectance"] = {"model": "toy"}
            self.publish_map(s, "reflectance", s.image.astype(np.float32) / 255)
            for p in s.persons:
                p["toy_points"] = [[20.0, 15.0, 0.5]]
                p["toy_box"] = [16.0, 12.0, 32.0, 30.0]


class Sloppy(Stage):
    """Writes canvas-frame output it never declared: a person key and a member."""

    name = "sloppy"

    def process(self, batch):
        for s in self.alive(batch):
            s.persons[0]["elbow"] = [1.0, 2.0]
            s.members["sloppy.png"] = b"png"


def outpainted() -> Sample:
    """An outpainted sample (96 x 72 canvas, original at (16, 12)) with no annotation yet."""
    sample = outpainted_sample()
    sample.canvas.maps.clear()
    sample.persons = [{"box": sample.persons[0]["box"]}]
    sample.info.clear()
    return sample


def run(stage: Stage, sample: Sample) -> None:
    task = TaskPayload(TaskSpec("t", "in", "folder", 0, 1), [sample])
    stage.run_task(task)


def test_a_new_dense_annotator_is_restored_with_no_edit_in_restore():
    sample = outpainted()
    original = sample.canvas.original
    run(ReflectanceStage(), sample)
    assert sample.alive and "reflectance.png" not in sample.members
    OutpaintRestoreStage(OutpaintConfig(write_canvas=True)).process([sample])
    with Image.open(io.BytesIO(sample.members["reflectance.png"])) as im:
        assert im.size == (W, H)
        np.testing.assert_array_equal(np.asarray(im), original)
    assert sample.info["reflectance"] == {"model": "toy", "encoding": "rgb8", "member": "reflectance.png"}
    assert "outpaint.reflectance.png" in sample.members
    person = sample.persons[0]
    assert person["toy_points"] == [[4.0, 3.0, 0.5]] and person["toy_box"] == [0.0, 0.0, 16.0, 18.0]
    assert person["box"] == [5.0, 6.0, 64.0, 48.0]


def test_without_a_canvas_the_declared_map_is_written_at_once():
    sample = Sample(key="k", task_id="t", source={}, width=W, height=H)
    sample.image = np.zeros((H, W, 3), dtype=np.uint8)
    sample.persons = [{"box": [1.0, 2.0, 3.0, 4.0]}]
    run(ReflectanceStage(), sample)
    assert sample.info["reflectance"]["member"] == "reflectance.png" and "reflectance.png" in sample.members


def test_an_undeclared_canvas_frame_output_fails_the_sample():
    sample = outpainted()
    run(Sloppy(), sample)
    assert sample.status == "error" and sample.reason == "sloppy_error:undeclared_canvas_output"
    assert "elbow" in sample.info["errors"][0]["message"] and "sloppy.png" in sample.info["errors"][0]["message"]


def test_the_same_output_in_the_original_frame_is_fine():
    sample = outpainted()
    sample.canvas = None
    run(Sloppy(), sample)
    assert sample.alive


def test_publishing_an_undeclared_map_is_an_error():
    sample = outpainted()
    with pytest.raises(ValueError, match="does not declare"):
        Sloppy().publish_map(sample, "reflectance", np.zeros((72, 96)))


def test_maps_at_another_size_resample_as_declared():
    canvas = make_canvas(W, H, 0.25)
    labels = np.zeros((36, 48), dtype=np.uint8)
    labels[:, 24:] = 7
    nearest = crop_map_to_original(labels, canvas, "nearest")
    assert nearest.shape == (H, W) and set(np.unique(nearest)) <= {0, 7} and nearest.dtype == np.uint8
    linear = crop_map_to_original(labels, canvas, "linear")
    assert len(np.unique(linear)) > 2  # values blend at the edge
    normals = np.zeros((36, 48, 3), dtype=np.float32)
    normals[:, :24] = (1, 0, 0)
    normals[:, 24:] = (0, 0, 1)
    renormalised = crop_map_to_original(normals, canvas, "normals")
    np.testing.assert_allclose(np.linalg.norm(renormalised, axis=-1), 1.0, atol=1e-5)
    assert np.linalg.norm(crop_map_to_original(normals, canvas, "linear"), axis=-1).min() < 0.9
