"""Pixels for rejected rows, only from the inputs the user named on the command line.

Rejected rows keep no pixels in the tar (DESIGN §3). For an audit we still want to look at some of them,
but the report never follows a location named *inside* an input row: a `file:///etc/...` URL in a parquet
row, or the `url` of an img2dataset json, is data written by whoever made the input, and a report that
read it would publish a thumbnail of a local file. It never downloads either (DESIGN §9). Nor does it trust
run.json's `inputs`: a pulled run's author writes that list too. So a thumbnail is shown only when the row
came from a local input the user names on inspect's own command line (`--input`), read through the same
capped readers as curation:
  - an image folder (`row` indexes its sorted image list; regular files only, capped);
  - an img2dataset tar (`row` is the sample's position in the tar; members capped by their header size);
otherwise the report lists the URL and reason only.
"""

from __future__ import annotations

import functools
import os
import tarfile

from humanverse.sources.image_folder import list_images
from humanverse.sources.img2dataset_tars import iter_tar_samples
from humanverse.sources.local_files import FileRefused, read_capped

MAX_BYTES = 50 * 1024 * 1024


def named_local_inputs(paths: list[str]) -> dict[str, str]:
    """path -> format of the local inputs the user named (`inspect --input`): a folder is an image folder,
    a .tar an img2dataset tar; anything else (a remote URL, a parquet) is never read."""
    named = {}
    for path in paths:
        if "://" in path:
            continue
        if os.path.isdir(path):
            named[os.path.abspath(path)] = "folder"
        elif path.endswith(".tar") and os.path.isfile(path):
            named[os.path.abspath(path)] = "img2dataset"
    return named


def local_image_bytes(input_path: str | None, row: int | None, named_inputs: dict[str, str]) -> bytes | None:
    """The image of input row `row` of `input_path`, if that is a local input the user named; else None."""
    if input_path is None or row is None or row < 0 or "://" in input_path:
        return None  # remote inputs are not read either: a report never downloads
    input_path = os.path.abspath(input_path)
    if input_path not in named_inputs:
        return None
    fmt = named_inputs[input_path]
    try:
        if fmt == "folder":
            images = _folder_images(input_path)
            return read_capped(images[row], MAX_BYTES) if row < len(images) else None
        if fmt == "img2dataset":
            return _tar_image(input_path, row)
    except (FileRefused, OSError, tarfile.TarError):
        return None
    return None


@functools.lru_cache(maxsize=16)
def _folder_images(folder: str) -> list[str]:
    return list_images(folder)


def _tar_image(tar_path: str, row: int) -> bytes | None:
    for index, sample in iter_tar_samples(tar_path, MAX_BYTES, wanted=lambda i: i == row):
        if index == row:
            ext = sample.image_ext
            return sample.files.get(ext) if ext else None
        if index > row:
            break
    return None
