"""img2dataset output tars: samples already downloaded, so we reuse their .jpg/.txt/.json and skip fetching.

A tar is untrusted input too: a 276 KB sparse tar or a 1.1 MB .tar.gz can declare a 1 GiB member. Member
sizes are read from the headers and checked before any data is read: an image over the download cap
(fetch.download.max_bytes) becomes that row's `too_large` error, and an over-size .txt or .json is
skipped with a note; the stream then skips the member's data without holding it.
"""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import fsspec

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources.keys import sample_key
from humanverse.sources.local_files import TOO_LARGE
from humanverse.sources.metadata_values import clean_cell, clean_text

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")
DEFAULT_MAX_BYTES = 32 * 1024**2
MAX_TEXT_MEMBER_BYTES = 1024**2
"""Captions and json sidecars larger than this are not read."""
_META_KEYS = ("punsafe", "pwatermark", "aesthetic")


@dataclass
class TarSample:
    """One sample's members: the ones read, and the ones over their cap (by size, never read)."""

    stem: str
    files: dict[str, bytes] = field(default_factory=dict)
    oversize: dict[str, int] = field(default_factory=dict)

    @property
    def image_ext(self) -> str | None:
        return next((e for e in IMAGE_EXTS if e in self.files or e in self.oversize), None)


def member_cap(ext: str, max_bytes: int) -> int:
    return max_bytes if ext in IMAGE_EXTS else MAX_TEXT_MEMBER_BYTES


def iter_tar_samples(
    path: str, max_bytes: int, wanted: Callable[[int], bool] = lambda index: True
) -> Iterator[tuple[int, TarSample]]:
    """(index, sample) in tar order; members of a sample are adjacent. Data is read only for wanted
    indices and only for members within their cap. fsspec's open follows the input's protocol."""
    current: TarSample | None = None
    index = -1
    with fsspec.open(path, "rb") as raw, tarfile.open(fileobj=raw, mode="r|*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            base = member.name.rsplit("/", 1)[-1]
            if "." not in base:
                continue
            stem, ext = base.split(".", 1)
            ext = ext.lower()
            if current is None or stem != current.stem:
                if current is not None:
                    yield index, current
                current, index = TarSample(stem), index + 1
            if not wanted(index):
                current.files[ext] = b""
            elif member.size > member_cap(ext, max_bytes):
                current.oversize[ext] = member.size
            else:
                handle = tar.extractfile(member)
                current.files[ext] = handle.read(member.size) if handle else b""
        if current is not None:
            yield index, current


class Img2DatasetTarReader:
    def __init__(self, dataset: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.dataset = dataset
        self.max_bytes = max_bytes

    def count(self, path: str) -> int:
        return sum(1 for _ in iter_tar_samples(path, self.max_bytes, wanted=lambda index: False))

    def read(self, spec: TaskSpec) -> list[Sample]:
        samples = []
        wanted = lambda index: spec.start <= index < spec.stop and spec.selects(index)  # noqa: E731
        for index, tar_sample in iter_tar_samples(spec.input_path, self.max_bytes, wanted):
            if index >= spec.stop:
                break
            if wanted(index):
                samples.append(self._sample(spec, index, tar_sample))
        return samples

    def _sample(self, spec: TaskSpec, index: int, tar_sample: TarSample) -> Sample:
        files = tar_sample.files
        meta_json = _json(files.get("json"))
        url, _ = clean_cell("url", meta_json.get("url"))
        source_id, _ = clean_cell("source_id", meta_json.get("key", tar_sample.stem))
        meta, problems = {}, {}
        for name in _META_KEYS:
            if name in meta_json:
                meta[name], problem = clean_cell(name, meta_json[name])
                if problem:
                    problems[name] = problem
        ext = tar_sample.image_ext
        sample = Sample(
            key=sample_key(spec.input_index, index),
            task_id=spec.task_id,
            source={
                "dataset": self.dataset or "img2dataset",
                "url": url,
                "source_id": source_id,
                "input": spec.input_path,
                "row": index,
            },
            caption=clean_text(files.get("txt", b"").decode("utf-8", "replace")),
            meta=meta,
            image_bytes=files.get(ext) if ext else None,
        )
        if problems:
            sample.info["metadata_problems"] = problems
        skipped = {e: n for e, n in tar_sample.oversize.items() if e not in IMAGE_EXTS}
        if skipped:
            sample.info["members_over_cap"] = skipped
        if ext is None:
            sample.fail("read", "no_image_member")
        elif ext in tar_sample.oversize:
            sample.fail("read", TOO_LARGE)
        return sample


def _json(data: bytes | None) -> dict:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
