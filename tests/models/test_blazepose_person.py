"""The blazepose detect backend with the real BlazePose / face-detector weights from the mediapipe wheel, on
the kit's real photos (tests/support/realdata.py): truth of the boxes, not their shapes."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from humanverse.accuracy import ground_truth, metrics
from humanverse.core.sample import Sample
from humanverse.models.detect.blazepose_person import BlazePosePersonDetector, ssd_anchors, wheel_files
from humanverse.stages.detect import DetectConfig, PersonDetectStage
from tests.support.realdata import PEOPLE

needs_photos = pytest.mark.skipif(not (PEOPLE / "ground_truth_index.json").is_file(), reason="needs the realdata kit")


def rgb(name: str) -> np.ndarray:
    with Image.open(PEOPLE / name) as im:
        return np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def detector():
    return BlazePosePersonDetector()


def test_anchor_layouts_match_the_shipped_models():
    from ai_edge_litert.interpreter import Interpreter

    pose, _, face = wheel_files()
    for path, anchors in ((pose, ssd_anchors(224, [8, 16, 32, 32, 32], 2)), (face, ssd_anchors(192, [4], 1))):
        net = Interpreter(str(path))
        assert {tuple(d["shape"][1:2]) for d in net.get_output_details()} == {(len(anchors),)}
    assert len(ssd_anchors(224, [8, 16, 32, 32, 32], 2)) == 2254


@needs_photos
def test_finds_the_skier_and_no_one_on_people_free_photos(detector):
    (gt,) = ground_truth.load(names=["coco_000000000785.jpg"])
    found = detector.detect([rgb("coco_000000000785.jpg")])[0]
    assert len(found) == 1 and metrics.box_iou([found[0][0]], [gt.persons[0].box])[0, 0] >= 0.7
    assert detector.detect([rgb("skimage_coffee.png"), rgb("macaque_d47f1b1ee9d3217e.jpg")]) == [[], []]


@needs_photos
def test_finds_more_than_the_main_person(detector):
    """The BlazePose detector is trained for the main person; tiles and face proposals find the others."""
    (gt,) = ground_truth.load(names=["coco_000000197388.jpg"])  # five skiers, four of them >= 5% of the photo
    boxes = [b for b, _ in detector.detect([rgb("coco_000000197388.jpg")])[0]]
    assert len(metrics.match_boxes([p.box for p in gt.persons], boxes, 0.5)) >= 3
    whole_only = BlazePosePersonDetector(tiles=False, faces=False)
    assert len(whole_only.detect([rgb("coco_000000197388.jpg")])[0]) < len(boxes)


@needs_photos
def test_stage_backend_records_the_wheel_model():
    stage = PersonDetectStage(DetectConfig(backend="blazepose", conf=0.4))
    stage.ensure_setup()
    image = rgb("coco_000000040083.jpg")  # two men in front (>= 13% each) and a tiny one behind
    s = Sample(key="k", task_id="t", source={}, image=image)
    s.height, s.width = image.shape[:2]
    stage.process([s])
    (gt,) = ground_truth.load(names=["coco_000000040083.jpg"])
    assert len(metrics.match_boxes([p.box for p in gt.persons[:2]], [p["box"] for p in s.persons], 0.5)) == 2
    assert s.info["models"]["detect"].startswith("mediapipe-0.10.21-blazepose-person sha256:")
