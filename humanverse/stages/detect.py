"""The person-detection stage: boxes for every decoded image, from YOLO (real preset), MediaPipe's BlazePose
detector (demo) or HOG."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage


class DetectConfig(Section):
    backend: Literal["ultralytics", "blazepose", "hog"] = "ultralytics"
    weights: str = "yolo11x.pt"
    """ultralytics .pt checkpoint: a path, or a name under the models directory."""
    conf: float = Field(0.35, ge=0, le=1)
    """Minimum box score (YOLO confidence; blazepose: detector score x landmark presence; hog: the SVM margin)."""
    imgsz: int = Field(640, ge=32)
    resources: Resources = Resources(num_cpus=1, batch_size=8)


class PersonDetectStage(Stage):
    name = "detect"

    def __init__(self, cfg: DetectConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self.detector = None

    def weight_checks(self):
        if self.cfg.backend == "blazepose":
            from humanverse.models.detect.blazepose_person import wheel_files

            return [wheel_files]
        return [] if self.cfg.backend == "hog" else [self._weights]

    def _weights(self):
        return locate(self.cfg.weights, [], self.models_dir)

    def setup(self) -> None:
        if self.cfg.backend == "hog":
            # OpenCV only: no torch in this worker (its import cost the demo's detect actor ~2 s and ~0.3 GB)
            from humanverse.models.detect.hog_person import HogPersonDetector

            self.detector = HogPersonDetector(min_score=self.cfg.conf, max_side=self.cfg.imgsz)
        elif self.cfg.backend == "blazepose":
            # LiteRT only, no torch (as for hog); imgsz does not apply (the models' inputs are fixed)
            from humanverse.models.detect.blazepose_person import BlazePosePersonDetector

            self.detector = BlazePosePersonDetector(min_score=self.cfg.conf)
        else:
            from humanverse.models.detect.yolo_person import YoloPersonDetector

            self.detector = YoloPersonDetector(self._weights(), self.cfg.conf, self.cfg.imgsz, self.use_device())

    def process(self, batch: list[Sample]) -> None:
        detections = self.detector.detect([s.image for s in batch])
        for sample, found in zip(batch, detections):
            area = float(sample.width * sample.height)
            sample.persons = [
                {
                    "box": [round(v, 2) for v in box],
                    "score": round(score, 4),
                    "area_frac": round((box[2] - box[0]) * (box[3] - box[1]) / area, 5),
                }
                for box, score in sorted(found, key=lambda d: -d[1])
            ]
            self.record_models(sample, "detect")

    def model_ids(self) -> dict[str, str]:
        if self.cfg.backend == "hog":
            import cv2

            return {"detect": f"opencv-hog-default-people-detector@{cv2.__version__}"}
        if self.cfg.backend == "blazepose":
            from humanverse.models.checkpoint_io import model_id
            from humanverse.models.detect.blazepose_person import wheel_files

            return {"detect": model_id("mediapipe-0.10.21-blazepose-person", wheel_files())}
        return {"detect": f"ultralytics:{self._weights().name}"}
