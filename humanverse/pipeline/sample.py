"""One input row on its way through the pipeline.

A rejected or failed row is not an exception: it keeps flowing with a status and a reason (its pixels
dropped), so the parquet sidecar accounts for every input row and ok + rejected + errors == input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

OK = "ok"
REJECTED = "rejected"
ERROR = "error"
STATUSES = (OK, REJECTED, ERROR)


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
    image: np.ndarray | None = None
    """Upright RGB uint8, H x W x 3."""
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
        self.members = {}
        self.columns = {k: v for k, v in self.columns.items() if not isinstance(v, (bytes, np.ndarray))}
