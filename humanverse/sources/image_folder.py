"""A plain folder of images (recursively, sorted), with an optional same-name .txt caption."""

from __future__ import annotations

import fsspec

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources.keys import sample_key

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff")


def list_images(path: str) -> list[str]:
    fs, root = fsspec.core.url_to_fs(path)
    files = [p for p in fs.find(root) if p.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(files)


class ImageFolderReader:
    def __init__(self, dataset: str | None = None):
        self.dataset = dataset

    def count(self, path: str) -> int:
        return len(list_images(path))

    def read(self, spec: TaskSpec) -> list[Sample]:
        fs, _ = fsspec.core.url_to_fs(spec.input_path)
        samples = []
        for index, file in enumerate(list_images(spec.input_path)[spec.start : spec.stop], start=spec.start):
            if not spec.selects(index):
                continue
            caption_file = file.rsplit(".", 1)[0] + ".txt"
            caption = fs.cat_file(caption_file).decode("utf-8", "replace").strip() if fs.exists(caption_file) else ""
            samples.append(
                Sample(
                    key=sample_key(spec.input_index, index),
                    task_id=spec.task_id,
                    source={
                        "dataset": self.dataset or "folder",
                        "url": None,
                        "source_id": file.rsplit("/", 1)[-1],
                        "input": spec.input_path,
                        "row": index,
                    },
                    caption=caption,
                    image_bytes=fs.cat_file(file),
                )
            )
        return samples
