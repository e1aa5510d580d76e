"""One input row on its way through the pipeline.

A rejected or failed row is not an exception: it keeps flowing with a status and a reason (its pixels
dropped), so the parquet sidecar accounts for every input row and ok + rejected + errors == input.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

OK = "ok"
REJECTED = "rejected"
ERROR = "error"
STATUSES = (OK, REJECTED, ERROR)


class _PixelsOfJpeg:
    """The `image` field: pixels that, when they are just the decoded `jpeg`, are not shipped between
    actors (a JPEG is ~10x smaller than its RGB array) and are decoded again on first use.

    So the object store carries compressed images only, and every annotation is computed on exactly the
    pixels a reader gets from {key}.jpg. A stage that replaces the pixels (e.g. an outpainting canvas)
    assigns `sample.image`, and those pixels are then shipped as they are.
    """

    def __get__(self, sample, owner=None):
        if sample is None:
            return None  # the dataclass default
        pixels = sample.__dict__.get("_pixels")
        if pixels is None and sample.jpeg is not None and sample.status == OK:
            with Image.open(io.BytesIO(sample.jpeg)) as im:
                pixels = np.asarray(im.convert("RGB"))
            sample.__dict__["_pixels"], sample.__dict__["_pixels_from_jpeg"] = pixels, True
        return pixels

    def __set__(self, sample, pixels) -> None:
        sample.__dict__["_pixels"], sample.__dict__["_pixels_from_jpeg"] = pixels, False


@dataclass
class Sample:
    key: str
    task_id: str
    source: dict[str, Any]
    """dataset, url, source_id, input file and row: where this sample came from."""
    caption: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    """Metadata columns under canonical names (width, height, punsafe, pwatermark, aesthetic, ...)."""

    status: str = OK
    reason: str | None = None
    stage: str | None = None
    """The stage that rejected or failed this sample."""
    transient: bool = False
    """True when the failure may go away on retry (timeouts, 5xx): `--retry-failed` picks these."""

    image_bytes: bytes | None = None
    """Encoded bytes as fetched or read, dropped once decoded."""
    image: np.ndarray | None = _PixelsOfJpeg()  # type: ignore[assignment]
    """Upright RGB uint8, H x W x 3 (decoded from `jpeg` on first use after a hop between actors)."""
    jpeg: bytes | None = None
    """What goes into {key}.jpg: the original bytes when they already are an upright RGB JPEG."""
    width: int | None = None
    height: int | None = None

    persons: list[dict[str, Any]] = field(default_factory=list)
    """{box: [x0,y0,x1,y1] px, score, area_frac, keypoints?: 133 x [x, y, score]} per kept person."""
    scores: dict[str, Any] = field(default_factory=dict)
    """Scalar scores, written to both json and parquet (aesthetic, nsfw, human_area_frac, ...)."""
    info: dict[str, Any] = field(default_factory=dict)
    """Further json fields (outpaint, depth range, model ids per annotation, ...)."""
    members: dict[str, bytes] = field(default_factory=dict)
    """Extra tar members by suffix, already encoded: {"depth.png": b"...", "normal.png": b"..."}."""
    columns: dict[str, Any] = field(default_factory=dict)
    """Extra parquet-only columns (e.g. a CLIP embedding)."""
    timings: dict[str, float] = field(default_factory=dict)
    """Per-sample seconds (e.g. fetch): summed into the shard's stats, never written into the sample, so
    rerunning the same input writes byte-identical shards."""
    canvas: Any = None
    """While outpainted (between the outpaint and outpaint_restore stages): an OutpaintState holding the
    original pixels, the canvas geometry and the annotators' raw dense maps. `image` then holds the canvas."""

    def set_decoded(self, jpeg: bytes, pixels: np.ndarray | None) -> None:
        """jpeg is what {key}.jpg will hold; pixels, when given, must be exactly its decoded pixels."""
        self.jpeg = jpeg
        self.__dict__["_pixels"], self.__dict__["_pixels_from_jpeg"] = pixels, pixels is not None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        if state.get("_pixels_from_jpeg"):
            state["_pixels"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @property
    def alive(self) -> bool:
        return self.status == OK

    def reject(self, stage: str, reason: str) -> None:
        self._end(REJECTED, stage, reason, transient=False)

    def fail(self, stage: str, reason: str, transient: bool = False) -> None:
        self._end(ERROR, stage, reason, transient)

    def _end(self, status: str, stage: str, reason: str, transient: bool) -> None:
        self.status, self.stage, self.reason, self.transient = status, stage, reason, transient
        self.drop_pixels()

    def drop_pixels(self) -> None:
        """Rejected rows travel on as metadata only, so they cost no object-store memory."""
        self.image_bytes = None
        self.image = None
        self.jpeg = None
        self.canvas = None
        self.members = {}
        self.columns = {k: v for k, v in self.columns.items() if not isinstance(v, (bytes, np.ndarray))}
