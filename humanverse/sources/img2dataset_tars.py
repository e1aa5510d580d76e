"""img2dataset output tars: samples already downloaded, so we reuse their .jpg/.txt/.json and skip fetching."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Iterator

import fsspec

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources.keys import sample_key

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")


class Img2DatasetTarReader:
    def __init__(self, dataset: str | None = None):
        self.dataset = dataset

    def count(self, path: str) -> int:
        return sum(1 for _ in _grouped(path, with_data=False))

    def read(self, spec: TaskSpec) -> list[Sample]:
        samples = []
        for index, (name, files) in enumerate(_grouped(spec.input_path, with_data=True)):
            if index < spec.start or not spec.selects(index):
                continue
            if index >= spec.stop:
                break
            meta_json = _json(files.get("json"))
            image = next((files[e] for e in IMAGE_EXTS if e in files), None)
            sample = Sample(
                key=sample_key(spec.input_index, index),
                task_id=spec.task_id,
                source={
                    "dataset": self.dataset or "img2dataset",
                    "url": meta_json.get("url"),
                    "source_id": str(meta_json.get("key", name)),
                    "input": spec.input_path,
                    "row": index,
                },
                caption=(files.get("txt") or b"").decode("utf-8", "replace"),
                meta={k: meta_json[k] for k in ("punsafe", "pwatermark", "aesthetic") if k in meta_json},
                image_bytes=image,
            )
            if image is None:
                sample.fail("read", "no_image_member")
            samples.append(sample)
        return samples


def _grouped(path: str, with_data: bool) -> Iterator[tuple[str, dict[str, bytes]]]:
    """Yield (basename, {ext: bytes}) per sample, in tar order; members of a sample are adjacent."""
    current, files = None, {}
    with fsspec.open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            base = member.name.rsplit("/", 1)[-1]
            if "." not in base:
                continue
            stem, ext = base.split(".", 1)
            if current is not None and stem != current:
                yield current, files
                files = {}
            current = stem
            if with_data:
                handle = tar.extractfile(member)
                files[ext.lower()] = handle.read() if handle else b""
            else:
                files[ext.lower()] = b""
        if current is not None:
            yield current, files


def _json(data: bytes | None) -> dict:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
