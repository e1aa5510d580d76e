"""Per-image fingerprints recorded during curation, into the sidecar and the sample's json: the pixel digest of
the source's upright RGB pixels (its definition, xxh3_128 or sha256, is the run's and the column's name says
it: imaging/pixel_digest.py; taken at decode, stages/decode.py, where `{key}.jpg` is a re-encode, else with
the pHash) and a 64-bit pHash of the image and of its mirror (after the person rule,
stages/perceptual_hash.py, so that only kept photos pay for it).

The pixels hashed are the decoder's upright RGB pixels of the downloaded bytes. For a JPEG source (kept
byte for byte as `{key}.jpg`) they are exactly what a reader decodes from the shard, so a dedup pass over a
run curated before fingerprints existed computes the same values from the tars (humanverse/dedup/backfill.py).
For other formats (PNG, WebP, ...) `{key}.jpg` is a re-encode, and hashing the source pixels is what lets a
lossless copy match its original; a backfill can only hash the re-encode, so in a run that mixes the two
such pairs may be missed by the pixel hash (the pHash still finds them).

pHash is imagehash's (DCT of a 32x32 grayscale, 8x8 low frequencies against their median). The grayscale
thumbnail is made once and reused for the mirrored hash, which is what lets a horizontally flipped copy
match: pHash itself is not flip-invariant.
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

from humanverse.imaging.pixel_digest import CURRENT, column_name, pixel_digest  # defined beside the decoder

PHASH_FIELDS = ("phash", "phash_mirror")
FIELDS = (column_name(CURRENT), *PHASH_FIELDS)
"""What a new run records."""
PHASH_BITS = 64
_PHASH_SIDE = 32  # imagehash.phash(hash_size=8, highfreq_factor=4) works on a 32x32 grayscale


def perceptual_hashes(rgb: np.ndarray) -> dict[str, str]:
    """imagehash.phash of the image and of its mirror, as 16 hex digits each."""
    gray = Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).convert("L")
    small = gray.resize((_PHASH_SIDE, _PHASH_SIDE), Image.Resampling.LANCZOS)
    return {
        "phash": str(imagehash.phash(small)),
        "phash_mirror": str(imagehash.phash(small.transpose(Image.Transpose.FLIP_LEFT_RIGHT))),
    }


def fingerprints(rgb: np.ndarray, definition: str) -> dict[str, str]:
    """The pixel digest of this definition (under its column's name) and the pHashes."""
    return {column_name(definition): pixel_digest(rgb, definition), **perceptual_hashes(rgb)}


def hex_to_u64(values) -> np.ndarray:
    """16-hex-digit hashes (None allowed: 0, mask them yourself) as uint64."""
    return np.array([int(v, 16) if v else 0 for v in values], dtype=np.uint64)
