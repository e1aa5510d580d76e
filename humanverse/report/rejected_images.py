"""Pixels for rejected rows, only where the source image can be read locally.

Rejected rows keep no pixels in the tar (DESIGN §3). For an audit we still want to look at some of them,
but the report never downloads: LAION/COYO URLs are untrusted internet data (DESIGN §9), and a report
should not depend on links that rot. So a thumbnail is shown when the row came from
  - a local image folder input (`input` is a folder, `row` indexes its sorted image list),
  - a local img2dataset tar (`row` is the sample's position in the tar),
  - a `file://` URL;
otherwise the report lists the URL and reason only.
"""

from __future__ import annotations

import functools
import tarfile
from pathlib import Path

from humanverse.sources.image_folder import list_images

MAX_BYTES = 50 * 1024 * 1024
_IMAGE_SUFFIXES = ("jpg", "jpeg", "png", "webp")


def local_image_bytes(url: str | None, input_path: str | None, row: int | None) -> bytes | None:
    try:
        if url and url.startswith("file://"):
            return _read_capped(Path(url[len("file://"):]))
        if input_path is None or row is None or "://" in input_path:
            return None
        source = Path(input_path)
        if source.is_dir():
            images = _folder_images(str(source))
            return _read_capped(Path(images[row])) if 0 <= row < len(images) else None
        if source.suffix == ".tar" and source.is_file():
            return _tar_image(str(source), row)
    except OSError:
        return None
    return None


@functools.lru_cache(maxsize=16)
def _folder_images(folder: str) -> list[str]:
    return list_images(folder)


def _read_capped(path: Path) -> bytes | None:
    if not path.is_file() or path.stat().st_size > MAX_BYTES:
        return None
    return path.read_bytes()


def _tar_image(tar_path: str, row: int) -> bytes | None:
    """The image of the row-th sample (samples are runs of members sharing a basename, in tar order)."""
    index, current = -1, None
    with tarfile.open(tar_path, "r|*") as tar:
        for member in tar:
            if not member.isfile() or "." not in member.name.rsplit("/", 1)[-1]:
                continue
            stem, ext = member.name.rsplit("/", 1)[-1].split(".", 1)
            if stem != current:
                current, index = stem, index + 1
            if index > row:
                return None
            if index == row and ext.lower() in _IMAGE_SUFFIXES and member.size <= MAX_BYTES:
                handle = tar.extractfile(member)
                return handle.read() if handle else None
    return None
