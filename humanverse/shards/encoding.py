"""Encodings of the shard contract (DESIGN §5): 16-bit inverse-depth PNG, 8-bit RGB normal PNG, 8-bit mask PNG.

Plain readers must be able to decode these without our code; webdataset's default "pil" decoder turns a
16-bit PNG into 8-bit RGB, so readers decode depth with decode_depth16 (see README, shard format).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from humanverse.shards.untrusted import MAX_PIXELS, decode_array

NORMAL_CONVENTION = "camera frame, x right, y up, z towards the camera; n = rgb / 127.5 - 1"


def encode_depth16(inverse_depth: np.ndarray) -> tuple[bytes, dict[str, float]]:
    """Min-max normalise relative inverse depth to 0..65535; returns the PNG and the range it came from."""
    d = np.asarray(inverse_depth, dtype=np.float64)
    if d.ndim != 2:
        raise ValueError(f"depth must be H x W, got shape {d.shape}")
    finite = np.isfinite(d)
    lo = float(d[finite].min()) if finite.any() else 0.0
    hi = float(d[finite].max()) if finite.any() else 0.0
    span = hi - lo
    norm = np.zeros_like(d) if span <= 0 else (np.where(finite, d, lo) - lo) / span
    q = np.round(norm * 65535.0).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(q).save(buf, format="PNG")
    return buf.getvalue(), {"min": lo, "max": hi}


def decode_depth16(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The normalised depth as float32 in [0, 1] (multiply by max - min and add min for the raw range).
    A PNG declaring more than max_pixels is refused before decoding (untrusted.BadSample)."""
    arr = decode_array(data, None, max_pixels)
    if arr.dtype != np.uint16 and arr.dtype != np.int32:
        raise ValueError(f"expected a 16-bit PNG, got {arr.dtype}")
    return arr.astype(np.float32) / 65535.0


def encode_normal(normals: np.ndarray) -> bytes:
    """Unit normals (H x W x 3, components in [-1, 1]) to RGB uint8 with n = rgb / 127.5 - 1."""
    n = np.asarray(normals, dtype=np.float32)
    if n.ndim != 3 or n.shape[2] != 3:
        raise ValueError(f"normals must be H x W x 3, got shape {n.shape}")
    rgb = np.clip(np.round((n + 1.0) * 127.5), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb, mode="RGB").save(buf, format="PNG")
    return buf.getvalue()


def decode_normal(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    return decode_array(data, "RGB", max_pixels).astype(np.float32) / 127.5 - 1.0


MASK_ENCODING = "8-bit grayscale PNG, person probability x 255 (>= 128: person)"


def encode_mask8(probability: np.ndarray) -> bytes:
    """A per-pixel person probability in [0, 1] (H x W) as an 8-bit grayscale PNG (0..255)."""
    p = np.asarray(probability, dtype=np.float32)
    if p.ndim != 2:
        raise ValueError(f"mask must be H x W, got shape {p.shape}")
    q = np.clip(np.round(np.nan_to_num(p) * 255.0), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(q, mode="L").save(buf, format="PNG")
    return buf.getvalue()


def decode_mask8(data: bytes, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The person probability as float32 in [0, 1]."""
    return decode_array(data, "L", max_pixels).astype(np.float32) / 255.0
