"""The pixel fingerprint of exact dedup (dedup/fingerprint.py): a hash over the shape and the packed upright
RGB pixels. Two ways to the same digest: from an H x W x 3 array, or straight from a decoded Pillow RGB
image, whose rows are hashed as Pillow packs them, so that the fetch path never builds the array only to
hash it (0.7 ms of ~9 per photo: the crop, copy and allocation of a full-size array).

Two definitions, the same header and bytes hashed by another function (README, "Deduplication"):
- ``xxh3_128``, what new runs record (column ``pixel_xxh3_128``): ~0.1 ms per photo against sha256's ~1.5 ms.
  The digest's one use is exact dedup, which compares one run's digests with each other: equal digests mark
  one sample as a duplicate of the better-ranked one (dedup/exact.py; a mark in OUT/dedup/, never a change to
  the shards). By accident, two photos collide with odds of about n^2 / 2^129 among n (1e-20 for a billion).
  On purpose, xxh3 is not collision resistant: someone who knew a photo's exact decoded pixels could craft a
  different image with its digest. Exact dedup therefore also requires equal pHashes (dedup/exact.py), so the
  crafted image must look like the photo, which perceptual dedup marks anyway: a forged collision gains nothing.
- ``sha256``, what runs recorded before (column ``pixel_sha256``); a run with no record of its definition
  (run.json's ``pixel_digest``) is a sha256 run, and keeps writing sha256 when resumed.
"""

from __future__ import annotations

import hashlib

import numpy as np
import xxhash
from PIL import Image, ImageFile

_HASHES = {"sha256": hashlib.sha256, "xxh3_128": xxhash.xxh3_128}
DEFINITIONS = tuple(_HASHES)
CURRENT = "xxh3_128"
"""What a new run records."""
UNRECORDED = "sha256"
"""The definition of a run that recorded none (written before definitions were recorded)."""


def check_definition(definition: object) -> str:
    if definition not in _HASHES:
        raise ValueError(f"unknown pixel digest definition {definition!r}; known: {', '.join(DEFINITIONS)}")
    return definition  # type: ignore[return-value]


def column_name(definition: str) -> str:
    """The sidecar (and json) field that holds a digest of this definition: the name says the definition."""
    check_definition(definition)
    return f"pixel_{definition}"


COLUMNS = tuple(column_name(d) for d in DEFINITIONS)


def pixel_digest(rgb: np.ndarray, definition: str) -> str:
    """The digest over the shape and the raw uint8 pixels: equal only for pixel-identical images."""
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    digest = _started(definition, rgb.shape[0], rgb.shape[1], rgb.shape[2] if rgb.ndim == 3 else 1)
    digest.update(memoryview(rgb).cast("B"))
    return digest.hexdigest()


def image_pixel_digest(image: Image.Image, definition: str) -> str:
    """pixel_digest of a loaded RGB image's pixels as they are stored (no EXIF rotation), packed a block
    of rows at a time by Pillow's raw encoder (what Image.tobytes runs, without joining the blocks)."""
    if image.mode != "RGB":
        raise ValueError(f"image_pixel_digest takes RGB images, not {image.mode}")
    width, height = image.size
    digest = _started(definition, height, width, 3)
    encoder = Image._getencoder("RGB", "raw", "RGB")
    try:
        encoder.setimage(image.im, (0, 0, width, height))
        while True:
            _, status, block = encoder.encode(max(ImageFile.MAXBLOCK, width * 4))
            digest.update(block)
            if status:
                break
    finally:
        encoder.cleanup()
    if status < 0:
        raise RuntimeError(f"Pillow's raw encoder failed with {status}")
    return digest.hexdigest()


def pixel_sha256(rgb: np.ndarray) -> str:
    """pixel_digest, sha256 definition."""
    return pixel_digest(rgb, "sha256")


def image_pixel_sha256(image: Image.Image) -> str:
    """image_pixel_digest, sha256 definition."""
    return image_pixel_digest(image, "sha256")


def _started(definition: str, height: int, width: int, channels: int):
    return _HASHES[check_definition(definition)](f"{height}x{width}x{channels}:".encode())
