"""Reading what others made (DESIGN §9): shards, sidecars, stats markers, run.json and dedup manifests pulled
from a colleague or a shared cluster are input like any URL. Every reader of them goes through here:

- a tar member is read only when its name is `{key}.{suffix}` with a safe key (sources/keys.check_key) and
  suffix, and only when its header size is at most `max_member_bytes`: a 3 GiB sparse member in a 30 KB
  shard is never inflated;
- a sample with an over-cap or repeated member is dropped whole and counted; a truncated or corrupt tar ends
  that shard, counted, never the reader;
- shard images (jpg, depth/normal/mask PNGs) decode only under MAX_PIXELS, the reader's own default
  (`fetch.decode.max_pixels`), checked on the header; never a limit read from the pulled run;
- a json member or file must be an object nested at most MAX_JSON_DEPTH deep (a list, or 100k-deep
  nesting, is a bad sample, not a RecursionError);
- a declared width/height is used only when it is a positive finite number.

Problems raise `BadSample(reason)`; consumers skip the sample and count the reason, as curate does.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import tarfile
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import fsspec
import numpy as np
from PIL import Image

from humanverse.imaging.decode import DecodeConfig
from humanverse.sources.keys import check_key, check_member_suffix
from humanverse.sources.local_files import FileRefused, read_capped

log = logging.getLogger(__name__)

MAX_MEMBER_BYTES = 64 * 1024 * 1024
"""A shard member larger than this by its tar header is not read (the sample is dropped and counted)."""
MAX_PIXELS = DecodeConfig.model_fields["max_pixels"].default
"""Pixels a shard image may declare: the reader's own default, never the pulled run's run.json."""
MAX_JSON_DEPTH = 64
MAX_JSON_FILE_BYTES = 256 * 1024 * 1024
"""run.json, dedup/manifest.json, stats markers: read up to this many bytes."""
MAX_SIDECAR_ROWS = 1_000_000
"""Rows a sidecar's footer may claim (one task's input rows); checked before any column is decoded."""


class BadSample(ValueError):
    """A sample (or file) a reader skips; `reason` is what it is counted under."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def skip_reason(exc: BaseException) -> str:
    """What a skipped sample is counted under: a BadSample's reason, else decode_error:<exception type>."""
    return exc.reason if isinstance(exc, BadSample) else f"decode_error:{type(exc).__name__}"


def decode_each(samples: Iterable[Any], decode, skipped: Counter) -> Iterator[Any]:
    """decode(sample) for each sample, passing over None; a sample whose decode raises anything is skipped,
    counted in `skipped` by skip_reason and logged, so one bad sample never stops the reader."""
    for sample in samples:
        try:
            result = decode(sample)
        except Exception as exc:  # noqa: BLE001 - see docstring
            skipped[skip_reason(exc)] += 1
            key = sample.get("__key__") if isinstance(sample, dict) else getattr(sample, "key", None)
            log.warning("skipped sample %r: %s (skipped so far: %s)", key, skip_reason(exc), dict(skipped))
            continue
        if result is not None:
            yield result


def tar_samples(stream, url: str = "", wanted: set[str] | None = None, max_member_bytes: int = MAX_MEMBER_BYTES,
                tally: Counter | None = None, suffixes: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """The samples of one tar stream as webdataset groups them ({"__key__", "__url__", suffix: bytes}),
    streamed once, only the `wanted` keys and member `suffixes` when given (others are never read).
    Skipped members and samples are counted in `tally`."""
    tally = tally if tally is not None else Counter()
    current: str | None = None
    files: dict[str, Any] = {}
    bad: str | None = None

    def finished() -> Iterator[dict[str, Any]]:
        if current is None or (wanted is not None and current not in wanted):
            return
        if bad is not None:
            tally[bad] += 1
        elif files:
            yield {"__key__": current, "__url__": url, **files}

    try:
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                key, _, suffix = member.name.partition(".")
                try:
                    check_key(key)
                    check_member_suffix(suffix)
                except ValueError:
                    tally["unsafe_member_name"] += 1
                    continue
                if key != current:
                    yield from finished()
                    current, files, bad = key, {}, None
                suffix = suffix.lower()
                if bad is not None or (wanted is not None and key not in wanted) or (
                        suffixes is not None and suffix not in suffixes):
                    continue
                if member.size > max_member_bytes:
                    bad = "member_too_large"
                elif suffix in files:
                    bad = "duplicate_member"
                else:
                    files[suffix] = tar.extractfile(member).read(member.size)
            yield from finished()
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        tally["unreadable_shard"] += 1
        log.warning("%s: unreadable tar, the rest of this shard is skipped (%s)", url or "shard", exc)


def shard_samples(shards: Iterable[dict[str, Any]], tally: Counter | None = None,
                  max_member_bytes: int = MAX_MEMBER_BYTES, skip_unopenable: bool = False,
                  wanted: set[str] | None = None, suffixes: set[str] | None = None) -> Iterator[dict[str, Any]]:
    """A webdataset pipeline stage: {"url"} dicts in, capped samples out (replaces tarfile_to_samples, which
    reads every member whole). `skip_unopenable` counts a shard that cannot be opened instead of raising."""
    tally = tally if tally is not None else Counter()
    for shard in shards:
        url = shard["url"]
        try:
            opened = fsspec.open(url, "rb").open()
        except OSError as exc:
            if not skip_unopenable:
                raise
            tally["unreadable_shard"] += 1
            log.warning("%s: cannot open (%s)", url, exc)
            continue
        with opened:
            yield from tar_samples(opened, url, wanted, max_member_bytes, tally, suffixes)


def tar_members(tar_url: str, keys: set[str], max_member_bytes: int = MAX_MEMBER_BYTES,
                tally: Counter | None = None, suffixes: set[str] | None = None) -> Iterator[tuple[str, dict[str, bytes]]]:
    """(key, {suffix: bytes}) for the wanted keys of one shard (works on object stores too); a shard that
    cannot be opened yields nothing and is counted."""
    for sample in shard_samples([{"url": tar_url}], tally, max_member_bytes, True, keys, suffixes):
        yield sample["__key__"], {k: v for k, v in sample.items() if not k.startswith("__")}


@contextlib.contextmanager
def open_image(data: bytes, max_pixels: int = MAX_PIXELS) -> Iterator[Image.Image]:
    """A PIL image whose header declares at most max_pixels (BadSample too_many_pixels / not_an_image)."""
    try:
        im = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the warning where it is an error
        raise BadSample("too_many_pixels") from None
    except (OSError, ValueError, TypeError, SyntaxError):
        raise BadSample("not_an_image") from None
    with im:
        if im.width <= 0 or im.height <= 0 or im.width * im.height > max_pixels:
            raise BadSample("too_many_pixels" if im.width * im.height > max_pixels else "zero_size")
        yield im


def decode_array(data: bytes, mode: str | None = None, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """The image as an array (converted to `mode` when given), under the pixel cap (BadSample decode_error)."""
    with open_image(data, max_pixels) as im:
        try:
            return np.asarray(im.convert(mode) if mode and im.mode != mode else im)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            raise BadSample("decode_error", str(exc)) from None


def json_object(data: bytes | str, reason: str = "bad_json") -> dict[str, Any]:
    """A json object nested at most MAX_JSON_DEPTH deep; anything else raises BadSample(reason)."""
    try:
        value = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadSample(reason, "not json") from None
    if not isinstance(value, dict):
        raise BadSample(reason, f"a json {type(value).__name__}, not an object")
    if _depth(value) > MAX_JSON_DEPTH:
        raise BadSample(reason, f"nested deeper than {MAX_JSON_DEPTH}")
    return value


def read_json_file(url: str, max_bytes: int = MAX_JSON_FILE_BYTES) -> dict[str, Any] | None:
    """A json object file of a pulled run (run.json, a manifest, a marker); None when absent.
    Raises BadSample("bad_json") for a file that is not a regular file, too large, or not such an object."""
    fs, path = fsspec.core.url_to_fs(url)
    if not fs.exists(path):
        return None
    try:
        data = read_capped(url, max_bytes)
    except FileRefused as exc:
        raise BadSample("bad_json", f"{url}: {exc.reason}") from None
    try:
        return json_object(data)
    except BadSample as exc:
        raise BadSample("bad_json", f"{url}: {exc}") from None


def read_sidecar(source, columns: list[str] | None = None, max_rows: int = MAX_SIDECAR_ROWS):
    """A sidecar parquet (a file object or bytes) as a table, refused (BadSample too_many_rows) when its
    footer claims more than max_rows rows, before any column is read."""
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    if parquet.metadata.num_rows > max_rows:
        raise BadSample("too_many_rows", f"the footer claims {parquet.metadata.num_rows} rows")
    return parquet.read(columns=columns)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_JSON_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((c, level + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def positive_number(value: Any) -> float | None:
    """A declared size or count: a finite number > 0 (not a bool, not a string), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None


def declared_size(meta: dict[str, Any], width: int, height: int) -> tuple[float, float]:
    """The original size the json's pixel coordinates refer to; the decoded size when it declares none usable."""
    w, h = positive_number(meta.get("width")), positive_number(meta.get("height"))
    return (w, h) if w is not None and h is not None else (float(width), float(height))


def persons_of(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The json's persons as a list of objects (BadSample bad_persons for anything else)."""
    persons = meta.get("persons") or []
    if not isinstance(persons, list) or not all(isinstance(p, dict) for p in persons):
        raise BadSample("bad_persons")
    return persons
