"""The person-detection stage: boxes for every decoded image, from YOLO (real preset), MediaPipe's BlazePose
detectors (demo) or HOG.

BACKENDS below is the detect table (stages/backend_table.py rows): a backend's predictor has
`detect(images) -> per image [(xyxy box, score), ...]`. Adding a detector is one model file under
models/detect/ plus one row here; `detect.backend` accepts every row, and the banner, `models list/check
--preset` and the demo builder read the row.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.stages.backend_table import Backend, ChosenBackend, known


class DetectConfig(Section):
    backend: str = "ultralytics"
    """A row of BACKENDS: ultralytics (YOLO weights), blazepose (MediaPipe's trained BlazePose person + face
    detectors, from the mediapipe wheel) or hog (OpenCV's trained HOG people detector)."""
    weights: str = "yolo11x.pt"
    """ultralytics .pt checkpoint: a path, or a name under the models directory."""
    conf: float = Field(0.35, ge=0, le=1)
    """Minimum box score (YOLO confidence, or the HOG SVM margin for the hog backend)."""
    imgsz: int = Field(640, ge=32)
    resources: Resources = Resources(num_cpus=1, batch_size=8)

    @field_validator("backend")
    @classmethod
    def _a_row(cls, value: str) -> str:
        return known(BACKENDS, "detect.backend", value)


def _load_hog(cfg: DetectConfig, files: list[Path], stage: Stage):
    # OpenCV only: no torch in this worker (its import cost the demo's detect actor ~2 s and ~0.3 GB)
    from humanverse.models.detect.hog_person import HogPersonDetector

    return HogPersonDetector(min_score=cfg.conf, max_side=cfg.imgsz)


def _hog_label(cfg: DetectConfig) -> str:
    import cv2

    return f"opencv-hog-default-people-detector@{cv2.__version__}"


def _load_blazepose(cfg: DetectConfig, files: list[Path], stage: Stage):
    # LiteRT only, no torch (as for hog); imgsz does not apply (the models' inputs are fixed)
    from humanverse.models.detect.blazepose_person import BlazePosePersonDetector

    return BlazePosePersonDetector(min_score=cfg.conf)


def _blazepose_files(cfg: DetectConfig, models_dir: str | None) -> list[Path]:
    from humanverse.models.detect.blazepose_person import wheel_files

    return wheel_files()


def _load_yolo(cfg: DetectConfig, files: list[Path], stage: Stage):
    from humanverse.models.detect.yolo_person import YoloPersonDetector

    return YoloPersonDetector(files[0], cfg.conf, cfg.imgsz, stage.use_device())


BACKENDS: dict[str, Backend] = {
    "ultralytics": Backend(
        "ultralytics", ("yolo11x",), weights=lambda c: c.weights, files=lambda c, d: [locate(c.weights, [], d)],
        load=_load_yolo, label=lambda c: "ultralytics", shown=lambda c: f"ultralytics {c.weights}", demo="random",
        run_id_of=lambda c, files: f"ultralytics:{files[0].name}",
    ),
    "blazepose": Backend(
        "blazepose", (), weights=lambda c: None, files=_blazepose_files, load=_load_blazepose,
        label=lambda c: "mediapipe-0.10.21-blazepose-person",
        # how it measured (bench/ACCURACY.md, issue 27), said where the banner names it so nobody over-reads it
        shown=lambda c: ("MediaPipe BlazePose person + face detectors; on the kit: recall 0.71 on people >= 5% "
                         "of a photo, precision 0.94, see bench/ACCURACY.md"),
        demo="trained",
    ),
    "hog": Backend(
        "hog", (), weights=lambda c: None, files=lambda c, d: [], load=_load_hog, label=_hog_label,
        shown=lambda c: "OpenCV HOG people detector", demo="trained", run_id_of=lambda c, files: _hog_label(c),
    ),
}
"""detect.backend -> its row. HOG's id is its label (it has no file), YOLO's its file name (as it has always
been); a new row gets the usual 'label sha256:<its files>'."""


class PersonDetectStage(ChosenBackend, Stage):
    name = "detect"
    backends = BACKENDS

    def __init__(self, cfg: DetectConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self.detector = None

    def setup(self) -> None:
        self.detector = self.load_backend()

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
        return {"detect": self.backend_id()}
