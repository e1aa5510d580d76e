"""A plain folder of images (recursively, sorted), with an optional same-name .txt caption.

Every entry with an image name is a row, whatever it really is: a symlink to /dev/zero, a FIFO or a
1.5 GB file ends as that row's error (not_a_regular_file, too_large) through the capped reader in
local_files, never as a hang or an allocation the size of the file.
"""

from __future__ import annotations

import os

import fsspec

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources.keys import sample_key
from humanverse.sources.local_files import TOO_LARGE, FileRefused, read_capped

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")
DEFAULT_MAX_BYTES = 32 * 1024**2
MAX_CAPTION_BYTES = 64 * 1024
"""Longer caption files are cut here (and the row's json says so)."""


def list_images(path: str) -> list[str]:
    """Every entry with an image suffix, sorted. Locally that includes symlinks and special files (each
    becomes a row the reader refuses); directory symlinks are not followed, so no loop and no escape."""
    fs, root = fsspec.core.url_to_fs(path)
    protocols = fs.protocol if isinstance(fs.protocol, (list, tuple)) else (fs.protocol,)
    if "file" in protocols or "local" in protocols:
        files = [
            os.path.join(folder, name)
            for folder, _dirs, names in os.walk(root, followlinks=False)
            for name in names
            if name.lower().endswith(IMAGE_SUFFIXES)
        ]
    else:
        files = [p for p in fs.find(root) if p.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(files)


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
                    "source_id": file.rsplit("/", 1)[-1],
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
