"""Every member suffix the curate stages can write, and how each is stored (README, *Shard format*).

One table, so readers decode each member by what it is rather than by its last extension (webdataset's
"pil" would turn 16-bit depth into 8-bit and single-channel masks into RGB), and tests can build a shard
holding every member and check each reader on all of them.
"""

from __future__ import annotations

import re

MEMBER_KINDS: tuple[tuple[str, str], ...] = (
    (r"(outpaint\.)?jpg", "rgb"),                        # the image; the outpainted canvas
    (r"txt", "text"),                                    # the caption
    (r"(outpaint\.)?json", "json"),                      # the sample json; the canvas-frame labels
    (r"(outpaint\.)?depth(_[a-z0-9]+)?\.png", "depth16"),  # depth.png, depth_omnidata/_midas/_sapiens.png
    (r"(outpaint\.)?normal\.png", "normal"),             # 8-bit RGB, n = rgb / 127.5 - 1
    (r"(outpaint\.)?mask\.png", "probability8"),         # 8-bit L, person probability x 255
    (r"parts\.png", "classes8"),                         # 8-bit L, Sapiens2 body-part class ids
    (r"hand_mask\.png", "binary8"),                      # 8-bit L, 255 = hand
)
_KINDS = [(re.compile(pattern), kind) for pattern, kind in MEMBER_KINDS]

EVERY_MEMBER: tuple[str, ...] = (
    "jpg", "txt", "json", "depth.png", "depth_omnidata.png", "depth_midas.png", "depth_sapiens.png", "normal.png",
    "mask.png", "parts.png", "hand_mask.png", "outpaint.jpg", "outpaint.json", "outpaint.depth.png",
    "outpaint.depth_omnidata.png", "outpaint.normal.png", "outpaint.mask.png",
)
"""One name of each member the stages write (depth: the primary and each second model; outpaint: the canvas
and its maps with write_canvas)."""


def member_kind(suffix: str) -> str | None:
    """The storage kind of a member suffix (`depth_omnidata.png` -> depth16), None for a member we never write."""
    for pattern, kind in _KINDS:
        if pattern.fullmatch(suffix):
            return kind
    return None
