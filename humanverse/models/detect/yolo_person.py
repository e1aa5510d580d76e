"""Person boxes from an ultralytics YOLO checkpoint (.pt), loaded from local disk only."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

PERSON_CLASS = 0


def offline_ultralytics() -> None:
    """ultralytics probes DNS at import and writes settings under $HOME unless told otherwise."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(Path(tempfile.gettempdir()) / "humanverse-ultralytics"))
    Path(os.environ["YOLO_CONFIG_DIR"]).mkdir(parents=True, exist_ok=True)


class YoloPersonDetector:
    def __init__(self, weights: Path, conf: float, imgsz: int, device: str):
        offline_ultralytics()
        import ultralytics.nn.tasks as ultralytics_tasks
        from ultralytics import YOLO
        from ultralytics.utils import patches

        # YOLO(path) unpickles the .pt with weights_only=False unless ultralytics' restricted load is on, so a
        # file in a shared models directory could run code; restricted: weights_only plus its model classes.
        ultralytics_tasks.SAFE_LOAD = True
        # ultralytics patches PIL.Image.open to pip-install pi-heif on the first unidentified image; nothing
        # may install packages at run time, and this worker may also decode untrusted bytes.
        patches._pil_plugins_registered = True
        self.model = YOLO(str(weights))
        self.conf, self.imgsz, self.device = conf, imgsz, device
        names = self.model.names or {}
        if names.get(PERSON_CLASS, "person") != "person":
            raise ValueError(f"{weights}: class 0 is {names.get(PERSON_CLASS)!r}, expected a COCO 'person' class")

    def detect(self, images: list[np.ndarray]) -> list[list[tuple[list[float], float]]]:
        """One list of (xyxy box in pixels, score) per RGB image."""
        bgr = [np.ascontiguousarray(im[:, :, ::-1]) for im in images]
        # fp16 on a GPU, as ultralytics' own GPU inference does (fp32 cost ~37% more GPU time per kept image:
        # bench/GPU.md); ultralytics runs fp32 on a CPU whatever `half` says.
        results = self.model.predict(
            bgr, imgsz=self.imgsz, conf=self.conf, classes=[PERSON_CLASS], device=self.device, verbose=False,
            half=str(self.device).startswith("cuda"),
        )
        out = []
        for r in results:
            boxes = r.boxes.xyxy.cpu().numpy().tolist() if r.boxes is not None else []
            scores = r.boxes.conf.cpu().numpy().tolist() if r.boxes is not None else []
            out.append([(b, float(s)) for b, s in zip(boxes, scores)])
        return out


def build_demo_weights(target: Path, arch: str = "yolo11n.yaml") -> Path:
    """A real YOLO architecture with random weights, saved in ultralytics' .pt format (finds nobody)."""
    offline_ultralytics()
    from ultralytics import YOLO

    target.parent.mkdir(parents=True, exist_ok=True)
    model = YOLO(arch)
    # A yaml-built model names its classes '0'..'79'; the published checkpoints carry COCO's names,
    # which the detector checks (class 0 must be 'person').
    model.model.names = {i: name for i, name in enumerate(COCO_NAMES)}
    model.save(str(target))
    return target


COCO_NAMES = (
    "person bicycle car motorcycle airplane bus train truck boat traffic_light fire_hydrant stop_sign "
    "parking_meter bench bird cat dog horse sheep cow elephant bear zebra giraffe backpack umbrella handbag tie "
    "suitcase frisbee skis snowboard sports_ball kite baseball_bat baseball_glove skateboard surfboard "
    "tennis_racket bottle wine_glass cup fork knife spoon bowl banana apple sandwich orange broccoli carrot "
    "hot_dog pizza donut cake chair couch potted_plant bed dining_table toilet tv laptop mouse remote keyboard "
    "cell_phone microwave oven toaster sink refrigerator book clock vase scissors teddy_bear hair_drier "
    "toothbrush"
).split()
COCO_NAMES = tuple(name.replace("_", " ") for name in COCO_NAMES)
