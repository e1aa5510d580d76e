"""A plain folder of images (recursively, sorted), with an optional same-name .txt caption.

Every entry with an image name is a row, whatever it really is: a symlink to /dev/zero, a FIFO or a
1.5 GB file ends as that row's error (not_a_regular_file, too_large) through the capped reader in
local_files, never as a hang or an allocation the size of the file.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator

import fsspec

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources.input_error import InputError
from humanverse.sources.keys import sample_key
from humanverse.sources.local_files import TOO_LARGE, FileRefused, read_capped

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
DEFAULT_MAX_BYTES = 32 * 1024**2
MAX_CAPTION_BYTES = 64 * 1024
"""Longer caption files are cut here (and the row's json says so)."""


def list_images(path: str) -> list[str]:
    """Every entry with an image suffix, sorted. Locally that includes symlinks and special files (each
    becomes a row the reader refuses); directory symlinks are not followed, so no loop and no escape."""
    return sorted(f for f in walk_files(path) if f.lower().endswith(IMAGE_SUFFIXES))


def walk_files(path: str) -> Iterator[str]:
    """Every non-folder entry under `path`, at any depth. Locally an explicit stack, not os.walk: os.walk
    recurses (a 1,200-deep folder raised RecursionError), and its default silently skips a folder it cannot
    list, which would drop that folder's images without a row; here that is an InputError naming it."""
    fs, root = fsspec.core.url_to_fs(path)
    protocols = fs.protocol if isinstance(fs.protocol, (list, tuple)) else (fs.protocol,)
    if "file" not in protocols and "local" not in protocols:
        yield from fs.find(root)
        return
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                listed = [(e.path, e.is_dir(), e.is_symlink()) for e in entries]
        except OSError as error:
            raise InputError(f"{folder}: cannot list this folder of input {path} ({error.strerror or error}); "
                             "fix its permissions or name the readable folders only") from error
        for entry, is_dir, is_link in listed:
            if not is_dir:
                yield entry
            elif not is_link:  # as os.walk(followlinks=False): a link to a folder is neither walked nor a row
                stack.append(entry)


def source_id(file: str, folder: str) -> str:
    """The file's path inside the input folder ('sub/a.jpg'): two files of the same name in different
    sub-folders stay told apart. A file at the top keeps its bare name, as before."""
    _, root = fsspec.core.url_to_fs(folder)
    return posixpath.relpath(file.replace(os.sep, "/"), root.replace(os.sep, "/"))


def with_protocol(path: str, like: str) -> str:
    """`path` as listed (protocol stripped) turned back into a URL on the filesystem of `like`."""
    fs, _ = fsspec.core.url_to_fs(like)
    protocol = fs.protocol[0] if isinstance(fs.protocol, (list, tuple)) else fs.protocol
    return path if protocol in ("file", "local") else f"{protocol}://{path}"


class ImageFolderReader:
    def __init__(self, dataset: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.dataset = dataset
        self.max_bytes = max_bytes

    def count(self, path: str) -> int:
        return len(list_images(path))

    def read(self, spec: TaskSpec) -> list[Sample]:
        samples = []
        for index, file in enumerate(list_images(spec.input_path)[spec.start : spec.stop], start=spec.start):
            if not spec.selects(index):
                continue
            sample = Sample(
                key=sample_key(spec.input_index, index),
                task_id=spec.task_id,
                source={
                    "dataset": self.dataset or "folder",
                    "url": None,
                    "source_id": source_id(file, spec.input_path),
                    "input": spec.input_path,
                    "row": index,
                },
            )
            url = with_protocol(file, spec.input_path)
            sample.caption = self._caption(url.rsplit(".", 1)[0] + ".txt", sample)
            try:
                sample.image_bytes = read_capped(url, self.max_bytes)
            except FileRefused as refused:
                sample.fail("read", refused.reason)
            samples.append(sample)
        return samples

    @staticmethod
    def _caption(path: str, sample: Sample) -> str:
        fs, local = fsspec.core.url_to_fs(path)
        if not fs.exists(local):
            return ""
        try:
            data = read_capped(path, MAX_CAPTION_BYTES)
        except FileRefused as refused:
            if refused.reason != TOO_LARGE:
                sample.info["caption_problem"] = refused.reason
                return ""
            data = read_capped(path, MAX_CAPTION_BYTES, truncate=True)
            sample.info["caption_problem"] = f"truncated_to_{MAX_CAPTION_BYTES}_bytes"
        return data.decode("utf-8", "replace").strip()
