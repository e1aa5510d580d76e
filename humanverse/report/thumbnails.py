"""Small JPEG data URIs of arrays and untrusted image bytes, so the HTML report is one self-contained file."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from humanverse.imaging.decode import DecodeConfig, decode_image

THUMB_SIDE = 360


def fit_scale(width: int, height: int, side: int = THUMB_SIDE) -> float:
    return min(1.0, side / max(width, height, 1))


def resize_rgb(rgb: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return rgb
    h, w = rgb.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.LANCZOS))


def jpeg_data_uri(rgb: np.ndarray, quality: int = 85) -> str:
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).convert("RGB").save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def decode_untrusted(data: bytes) -> np.ndarray | None:
    """Through the pipeline's safe decoder (pixel limits before decode, EXIF applied); None if unusable."""
    decoded, _reason = decode_image(data, DecodeConfig())
    return None if decoded is None else decoded.rgb


def thumbnail_uri(data: bytes) -> str | None:
    rgb = decode_untrusted(data)
    if rgb is None:
        return None
    return jpeg_data_uri(resize_rgb(rgb, fit_scale(rgb.shape[1], rgb.shape[0])))
