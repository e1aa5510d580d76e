"""Both detector backends through the production stage: a real YOLO architecture with random weights saved
as an ultralytics .pt and loaded by path, and OpenCV's trained HOG people detector on a real photo."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from humanverse.stages.detect import DetectConfig, PersonDetectStage
from humanverse.models.detect.yolo_person import build_demo_weights
from humanverse.models.files import MissingModelFiles
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources


def photo(name: str) -> np.ndarray:
    import ultralytics

    return np.asarray(Image.open(Path(ultralytics.__file__).parent / "assets" / name).convert("RGB"))


def sample(image: np.ndarray) -> Sample:
    s = Sample(key="k", task_id="t", source={}, image=image)
    s.height, s.width = image.shape[:2]
    return s


def test_yolo_pt_loads_through_the_stage(tmp_path):
    weights = build_demo_weights(tmp_path / "yolo11n.pt")
    stage = PersonDetectStage(DetectConfig(backend="ultralytics", weights=str(weights), conf=0.0001, imgsz=320,
                                           resources=Resources(batch_size=2)))
    stage.ensure_setup()
    batch = [sample(photo("bus.jpg")), sample(photo("zidane.jpg"))]
    stage.process(batch)
    for s in batch:  # random weights: any boxes are noise, but they are person-class boxes inside the image
        for p in s.persons:
            x0, y0, x1, y1 = p["box"]
            assert 0 <= x0 <= x1 <= s.width and 0 <= y0 <= y1 <= s.height and 0 <= p["area_frac"] <= 1
        assert s.info["models"]["detect"] == "ultralytics:yolo11n.pt"


def test_missing_yolo_weights_are_named(tmp_path):
    with pytest.raises(MissingModelFiles, match="yolo11x.pt"):
        PersonDetectStage(DetectConfig(backend="ultralytics", weights="yolo11x.pt"), str(tmp_path)).check_models()


def test_hog_finds_the_people_by_the_bus():
    stage = PersonDetectStage(DetectConfig(backend="hog", conf=0.3))
    stage.ensure_setup()
    s = sample(photo("bus.jpg"))
    stage.process([s])
    assert len(s.persons) >= 1 and all(p["score"] >= 0.3 for p in s.persons)
    assert s.info["models"]["detect"].startswith("opencv-hog")


def test_yolo_weights_never_run_pickled_code(tmp_path):
    """Issue 26 item 2 (audit): YOLO(path) unpickled with weights_only=False, so a .pt swapped into a shared
    models directory ran code. The detector turns on ultralytics' restricted load."""
    import torch

    from humanverse.models.detect.yolo_person import YoloPersonDetector

    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (marker.touch, ())

    torch.save({"model": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(Exception):  # noqa: B017 - ultralytics refuses it with a TypeError naming the types
        YoloPersonDetector(tmp_path / "evil.pt", conf=0.25, imgsz=64, device="cpu")
    assert not marker.exists()
