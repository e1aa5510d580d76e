"""Fingerprints for runs curated before they were recorded: decode the wanted samples' `{key}.jpg` from the
shard's tar (streamed once, other members skipped) exactly as a reader does, and hash those pixels."""

from __future__ import annotations

import io
import tarfile

import fsspec
import numpy as np
from PIL import Image

from humanverse.dedup.fingerprint import fingerprints

# Our own shards hold images that passed the curation decoder's limits; this only guards against a tar
# that was swapped for something hostile.
MAX_PIXELS = 178_956_970


def fingerprints_from_tar(tar_url: str, keys: set[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    with fsspec.open(tar_url, "rb") as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
        for member in tar:
            if not member.isfile() or not member.name.endswith(".jpg"):
                continue
            key = member.name[: -len(".jpg")]
            if key not in keys:
                continue
            handle = tar.extractfile(member)
            rgb = _decode(handle.read()) if handle else None
            if rgb is not None:
                out[key] = fingerprints(rgb)
    return out


def _decode(data: bytes) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > MAX_PIXELS:
                return None
            return np.asarray(im.convert("RGB"))
    except Exception:  # noqa: BLE001 - an unreadable member is a sample without fingerprints, not a failed pass
        return None
