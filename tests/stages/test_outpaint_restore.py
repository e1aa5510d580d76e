"""Restoring an outpainted sample: labels back in the original frame, maps cropped to its exact size."""

import io
import json

import numpy as np
import pytest
from PIL import Image

from humanverse.imaging.outpaint_canvas import make_canvas, pad_to_canvas
from humanverse.stages.outpaint_restore import OutpaintRestoreStage, encode_map
from humanverse.stages.outpaint import OutpaintConfig
from humanverse.stages.outpaint_state import OutpaintState, stash_map
from humanverse.core.sample import Sample
from humanverse.shards.encoding import decode_depth16, decode_normal

W, H = 64, 48


def outpainted_sample() -> Sample:
    """A sample as the annotators leave it: canvas image, canvas-frame labels, raw canvas maps."""
    rng = np.random.default_rng(0)
    original = rng.integers(0, 255, (H, W, 3), dtype=np.uint8)
    canvas = make_canvas(W, H, 0.25)  # 96 x 72, original at (16, 12)
    sample = Sample(key="k1", task_id="t", source={}, width=W, height=H)
    sample.image = pad_to_canvas(original, canvas)
    sample.canvas = OutpaintState(original, canvas, [[5.0, 6.0, 64.0, 48.0]])
    keypoints = [[16.0, 12.0, 0.9], [90.0, 70.0, 0.5]] + [[40.0, 30.0, 0.8]] * 131
    sample.persons = [{"box": [21.0, 18.0, 96.0, 72.0], "score": 0.9, "area_frac": 0.3, "keypoints": keypoints}]
    sample.info["depth"] = {"model": "m", "kind": "relative inverse depth"}
    depth = np.full((72, 96), 1000.0, dtype=np.float32)
    depth[12:60, 16:80] = np.linspace(2.0, 5.0, H * W, dtype=np.float32).reshape(H, W)
    normal = np.zeros((72, 96, 3), dtype=np.float32)
    normal[..., 0] = 1.0
    normal[12:60, 16:80] = (0.0, 0.0, 1.0)
    assert stash_map(sample, "depth", depth) and stash_map(sample, "normal", normal)
    return sample


def test_labels_and_pixels_return_to_the_original_frame():
    sample = outpainted_sample()
    original = sample.canvas.original
    OutpaintRestoreStage(OutpaintConfig()).process([sample])
    assert sample.canvas is None and sample.image is original
    p = sample.persons[0]
    assert p["box"] == [5.0, 6.0, 64.0, 48.0]
    assert p["keypoints"][:3] == [[0.0, 0.0, 0.9], [74.0, 58.0, 0.5], [24.0, 18.0, 0.8]]
    assert len(p["keypoints_outside"]) == 133
    assert p["keypoints_outside"][:3] == [False, True, False] and sum(p["keypoints_outside"]) == 1
    assert not any(k.startswith("outpaint") for k in sample.members)


def test_dense_maps_are_cropped_to_the_original_and_ranges_describe_it_only():
    sample = outpainted_sample()
    OutpaintRestoreStage(OutpaintConfig()).process([sample])
    depth = decode_depth16(sample.members["depth.png"])
    assert depth.shape == (H, W)
    assert sample.info["depth"] == {
        "model": "m",
        "kind": "relative inverse depth",
        "min": 2.0,
        "max": 5.0,
        "member": "depth.png",
    }
    assert depth[0, 0] == 0.0 and depth[-1, -1] == 1.0
    normal = decode_normal(sample.members["normal.png"])
    assert normal.shape == (H, W, 3)
    np.testing.assert_allclose(normal[..., 2], 1.0, atol=1 / 127.5)
    np.testing.assert_allclose(normal[..., 0], 0.0, atol=1 / 127.5)


def test_write_canvas_keeps_the_canvas_and_its_labels():
    sample = outpainted_sample()
    OutpaintRestoreStage(OutpaintConfig(write_canvas=True)).process([sample])
    with Image.open(io.BytesIO(sample.members["outpaint.jpg"])) as im:
        assert im.size == (96, 72)
    doc = json.loads(sample.members["outpaint.json"])
    assert doc["canvas_box"] == [-16, -12, 80, 60] and doc["original_box"] == [16, 12, 80, 60]
    person = doc["persons"][0]
    assert person["box"] == [21.0, 18.0, 80.0, 60.0] and person["pose_box"] == [21.0, 18.0, 96.0, 72.0]
    assert person["keypoints"][1] == [90.0, 70.0, 0.5]
    assert decode_depth16(sample.members["outpaint.depth.png"]).shape == (72, 96)
    assert doc["maps"]["depth"]["max"] == 1000.0
    assert sample.info["outpaint"]["canvas_members"] == [
        "outpaint.jpg",
        "outpaint.json",
        "outpaint.depth.png",
        "outpaint.normal.png",
    ]


def test_samples_that_were_not_outpainted_are_left_alone():
    sample = Sample(key="k2", task_id="t", source={}, width=W, height=H)
    sample.image = np.zeros((H, W, 3), dtype=np.uint8)
    sample.persons = [{"box": [1.0, 2.0, 3.0, 4.0]}]
    OutpaintRestoreStage(OutpaintConfig()).process([sample])
    assert sample.persons == [{"box": [1.0, 2.0, 3.0, 4.0]}] and sample.members == {}
    assert stash_map(sample, "depth", np.zeros((H, W))) is False


def test_a_map_that_is_not_canvas_sized_is_refused():
    sample = outpainted_sample()
    with pytest.raises(ValueError, match="canvas is"):
        stash_map(sample, "depth", np.zeros((H, W)))


def test_unknown_map_names_are_refused_not_dropped():
    with pytest.raises(ValueError, match="no encoding"):
        encode_map("albedo", np.zeros((4, 4)))


def test_rejecting_a_sample_drops_its_canvas():
    sample = outpainted_sample()
    sample.reject("pose", "no_keypoints")
    assert sample.canvas is None and sample.image is None
