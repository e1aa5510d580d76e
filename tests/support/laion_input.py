"""LAION-format input rows for the local test server: real photos, a small image and failure routes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

LAION_SCHEMA = pa.schema([("SAMPLE_ID", pa.int64()), ("URL", pa.string()), ("TEXT", pa.string()),
                          ("WIDTH", pa.int32()), ("HEIGHT", pa.int32())])


def ultralytics_assets() -> Path:
    import ultralytics

    return Path(ultralytics.__file__).parent / "assets"


HOG_DETECT = ["detect.backend=hog", "detect.conf=0.3", "detect.imgsz=640", "pose.bbox_padding=1.0",
              "hands.refine=false"]
"""The demo's former detector (OpenCV HOG, with the pose crop padding that suited its boxes, and no MediaPipe
Hands refinement, which costs a model run per person and is tested on its own), pinned by tests whose expectations are about what happens to the
kept photos (readers, dedup, geometry), not about the detector: on these photos HOG keeps bus.jpg (one box,
~20% of the picture) and rejects zidane.jpg; the demo's BlazePose detector does the opposite (4 people on the
bus, 1 found: too small an area; both men in zidane.jpg), which tests/engine/test_curate_e2e.py checks."""


def populate_image_root(root: Path) -> None:
    """bus.jpg: HOG finds its people; zidane.jpg: it does not (BlazePose: the other way round); small.png:
    under 200x200."""
    for name in ("bus.jpg", "zidane.jpg"):
        shutil.copyfile(ultralytics_assets() / name, root / name)
    Image.new("RGB", (120, 90), (30, 60, 90)).save(root / "small.png")


def laion_rows(srv, repeat: int = 1):
    urls = [
        (srv.url("img/bus.jpg"), "people by a bus"),
        (srv.url("img/zidane.jpg"), "two men"),
        (srv.url("img/small.png"), "too small"),
        (srv.url("status/404"), "dead link"),
        (srv.url("html"), "a web page"),
    ] * repeat
    return [{"SAMPLE_ID": i, "URL": u, "TEXT": t, "WIDTH": None, "HEIGHT": None} for i, (u, t) in enumerate(urls)]


def write_laion_parquet(path: Path, srv, repeat: int = 2) -> str:
    pq.write_table(pa.Table.from_pylist(laion_rows(srv, repeat=repeat), schema=LAION_SCHEMA), path)
    return str(path)
