"""img2dataset output tars: samples already downloaded, so we reuse their .jpg/.txt/.json and skip fetching.

A tar is untrusted input too: a 276 KB sparse tar or a 1.1 MB .tar.gz can declare a 1 GiB member. Member
sizes are read from the headers and checked before any data is read: an image over the download cap
(fetch.download.max_bytes) becomes that row's `too_large` error, and an over-size .txt or .json is
skipped with a note; the stream then skips the member's data without holding it.

Planning reads a plain tar's headers once (data skipped by seeking) into an index of each sample's first
header offset, 8 bytes a sample; a task seeks to its first sample instead of reading the tar from the start
(1M samples took ~5 h that way). A pax or GNU long-name header over MAX_HEADER_BYTES is refused, and a tar
cut short ends at the cut: the sample whose member it cuts is a `truncated` row.
"""

from __future__ import annotations

import json
import tarfile
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache

import fsspec

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources.keys import sample_key
from humanverse.sources.local_files import TOO_LARGE
from humanverse.sources.metadata_values import MAX_TEXT_CHARS, clean_cell, clean_text

IMAGE_EXTS = ("jpg", "jpeg", "png", "webp")
DEFAULT_MAX_BYTES = 32 * 1024**2
MAX_TEXT_MEMBER_BYTES = 1024**2
"""Captions and json sidecars larger than this are not read."""
MAX_HEADER_BYTES = 64 * 1024
"""pax and GNU long-name headers hold a path and a few attributes: hundreds of bytes, not megabytes."""
_META_KEYS = ("punsafe", "pwatermark", "aesthetic")


@dataclass
class TarSample:
    """One sample's members: the ones read, and the ones over their cap (by size, never read)."""

    stem: str
    files: dict[str, bytes] = field(default_factory=dict)
    oversize: dict[str, int] = field(default_factory=dict)
    truncated: set[str] = field(default_factory=set)
    """Members whose data the tar cuts short."""

    @property
    def image_ext(self) -> str | None:
        return next((e for e in IMAGE_EXTS if e in self.files or e in self.oversize or e in self.truncated), None)


def member_cap(ext: str, max_bytes: int) -> int:
    return max_bytes if ext in IMAGE_EXTS else MAX_TEXT_MEMBER_BYTES


class TarRefused(tarfile.TarError):
    """A tar whose headers are not believed (a pax or GNU long-name header over MAX_HEADER_BYTES)."""


class CappedTarInfo(tarfile.TarInfo):
    """tarfile reads a pax or GNU long-name header's data whole, at the size its header states: 1.7 MB of
    .tar.gz declaring a pax header of gigabytes took planning to 4.45 GiB. Such a header is refused first."""

    def _proc_member(self, tar):
        if self.type in _HEADER_TYPES and self.size > MAX_HEADER_BYTES:
            raise TarRefused(f"a {self.size}-byte extended header at offset {self.offset} "
                             f"(at most {MAX_HEADER_BYTES} are read)")
        return super()._proc_member(tar)


_HEADER_TYPES = (tarfile.XHDTYPE, tarfile.XGLTYPE, tarfile.SOLARIS_XHDTYPE, tarfile.GNUTYPE_LONGNAME,
                 tarfile.GNUTYPE_LONGLINK)


def is_compressed(path: str) -> bool:
    return not path.lower().endswith(".tar")


def _members(tar: tarfile.TarFile) -> Iterator[tarfile.TarInfo]:
    """The tar's members, not kept: TarFile lists every member it has read (3M TarInfo objects for a
    1M-sample tar). A tar cut short ends at the cut; the member whose data it cuts fails its row on read."""
    while True:
        try:
            member = tar.next()
        except (tarfile.ReadError, EOFError) as error:
            if isinstance(error, EOFError) or "unexpected end of data" in str(error):
                return
            raise
        if member is None:
            return
        tar.members.clear()
        yield member


def _open(raw, path: str) -> tarfile.TarFile:
    """A plain local tar is opened seekable (member data is skipped by seeking); a compressed one, or one on
    object storage (where each seek past a member would be a request of its own), as a stream."""
    if is_compressed(path):
        mode = "r|*"
    else:
        fs, _ = fsspec.core.url_to_fs(path)
        protocols = fs.protocol if isinstance(fs.protocol, (list, tuple)) else (fs.protocol,)
        mode = "r:" if "file" in protocols or "local" in protocols else "r|"
    return tarfile.open(fileobj=raw, mode=mode, tarinfo=CappedTarInfo)


@lru_cache(maxsize=8)
def _offsets(path: str, stamp: tuple) -> array:
    """Byte offset of each sample's first member header, from one pass over the headers (data skipped)."""
    offsets = array("q")
    stem = None
    with fsspec.open(path, "rb") as raw, _open(raw, path) as tar:
        for member in _members(tar):
            name = _member_name(member)
            if name is not None and name[0] != stem:
                stem = name[0]
                offsets.append(member.offset)
    return offsets


def sample_offsets(path: str) -> array:
    """The tar's index, made once per process and file version: each task seeks to its first sample
    instead of reading the tar from the start (which made reading a tar quadratic in its size)."""
    fs, local = fsspec.core.url_to_fs(path)
    info = fs.info(local)
    return _offsets(path, (info.get("size"), info.get("mtime"), info.get("ETag")))


def _member_name(member: tarfile.TarInfo) -> tuple[str, str] | None:
    """(stem, lower-case extension) of a file member named like a sample's, else None."""
    if not member.isfile():
        return None
    base = member.name.rsplit("/", 1)[-1]
    if "." not in base:
        return None
    stem, ext = base.split(".", 1)
    return stem, ext.lower()


def iter_tar_samples(
    path: str, max_bytes: int, wanted: Callable[[int], bool] = lambda index: True, first: int = 0
) -> Iterator[tuple[int, TarSample]]:
    """(index, sample) in tar order from sample `first` on; members of a sample are adjacent. Data is read
    only for wanted indices and only for members within their cap. A plain tar is entered at `first` through
    its index; a compressed one is read from the start. fsspec's open follows the input's protocol."""
    current: TarSample | None = None
    index = -1
    with fsspec.open(path, "rb") as raw:
        if first and not is_compressed(path):
            offsets = sample_offsets(path)
            if first >= len(offsets):
                return
            raw.seek(offsets[first])
            index = first - 1
        with _open(raw, path) as tar:
            for member in _members(tar):
                name = _member_name(member)
                if name is None:
                    continue
                stem, ext = name
                if current is None or stem != current.stem:
                    if current is not None:
                        yield index, current
                    current, index = TarSample(stem), index + 1
                if not wanted(index):
                    current.files[ext] = b""
                elif member.size > member_cap(ext, max_bytes):
                    current.oversize[ext] = member.size
                else:
                    try:
                        handle = tar.extractfile(member)
                        current.files[ext] = handle.read(member.size) if handle else b""
                    except (tarfile.ReadError, EOFError):  # the tar ends inside this member's data
                        current.truncated.add(ext)
            if current is not None:
                yield index, current


class Img2DatasetTarReader:
    def __init__(self, dataset: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES):
        self.dataset = dataset
        self.max_bytes = max_bytes

    def count(self, path: str) -> int:
        if not is_compressed(path):
            return len(sample_offsets(path))
        return sum(1 for _ in iter_tar_samples(path, self.max_bytes, wanted=lambda index: False))

    def read(self, spec: TaskSpec) -> list[Sample]:
        samples = []
        wanted = lambda index: spec.start <= index < spec.stop and spec.selects(index)  # noqa: E731
        for index, tar_sample in iter_tar_samples(spec.input_path, self.max_bytes, wanted, first=spec.start):
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
            caption=clean_text(files.get("txt", b"").decode("utf-8", "replace")[:MAX_TEXT_CHARS]),
            meta=meta,
            image_bytes=files.get(ext) if ext else None,
        )
        if problems:
            sample.info["metadata_problems"] = problems
        if len(files.get("txt", b"")) > MAX_TEXT_CHARS and len(sample.caption) == MAX_TEXT_CHARS:
            sample.info["caption_problem"] = f"cut_to_{MAX_TEXT_CHARS}_chars"
        skipped = {e: n for e, n in tar_sample.oversize.items() if e not in IMAGE_EXTS}
        if skipped:
            sample.info["members_over_cap"] = skipped
        if ext is None:
            sample.fail("read", "no_image_member")
        elif ext in tar_sample.oversize:
            sample.fail("read", TOO_LARGE)
        elif ext in tar_sample.truncated:
            sample.fail("read", "truncated")
        return sample


def _json(data: bytes | None) -> dict:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
