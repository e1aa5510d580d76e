"""From what `--input` named (files and folders, after globbing) to the files to read and their format.

An img2dataset output folder holds `00000.tar` with its siblings `00000.parquet` (the shard's rows, URLs
included) and `00000_stats.json`. Named as a folder, or globbed as `dir/*`, it means its tars: the siblings
describe those tars and are never read as inputs of their own (a sibling parquet read as LAION metadata
would download every image again). A folder or pattern that leaves nothing usable is an InputError that
says what was there, never a run of 0 tasks.
"""

from __future__ import annotations

import os
import posixpath
from collections import Counter
from collections.abc import Iterator

import fsspec

from humanverse.sources.image_folder import IMAGE_SUFFIXES, walk_files, with_protocol
from humanverse.sources.input_error import InputError

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")
SIBLING_SUFFIXES = (".parquet", "_stats.json")
"""What img2dataset writes beside each `<shard>.tar`."""
FILE_SUFFIXES = (*TAR_SUFFIXES, ".parquet", ".json")
"""Names taken as files without asking the filesystem (on object storage each ask is a round trip)."""
SHOWN_ENTRIES = 10_000
"""A folder's listing is summarised from at most this many entries."""


def is_tar(path: str) -> bool:
    return path.lower().endswith(TAR_SUFFIXES)


def tar_stem(path: str) -> str:
    lower = path.lower()
    for suffix in TAR_SUFFIXES:
        if lower.endswith(suffix):
            return path[: -len(suffix)]
    return path


def resolve_inputs(paths: list[str], fmt: str) -> list[tuple[str, str]]:
    """(file or folder, format) to plan, in the order given: img2dataset folders become their tars,
    siblings of a listed tar are dropped. fmt "auto" stays "auto" for files (parquet flavour is decided
    from the footer), folders get "folder" or "img2dataset"."""
    tars = {tar_stem(p) for p in paths if is_tar(p)}
    out: list[tuple[str, str]] = []
    for path in paths:
        if not is_tar(path) and any(path.endswith(s) and path[: -len(s)] in tars for s in SIBLING_SUFFIXES):
            continue
        if path.lower().endswith(FILE_SUFFIXES) or not _is_folder(path):
            out.append((path, fmt))
            continue
        if fmt not in ("auto", "img2dataset", "folder"):
            raise InputError(f"{path} is a folder; --input-format {fmt} reads files: name them (e.g. '{path}/*')")
        out.extend(_folder(path, fmt))
    if not out:
        raise InputError(f"--input {paths!r}: nothing to read (only img2dataset .parquet/_stats.json siblings)")
    return list(dict.fromkeys(out))  # a folder and its own tars named both: each tar once


def _is_folder(path: str) -> bool:
    fs, local = fsspec.core.url_to_fs(path)
    return fs.isdir(local)


def _folder(path: str, fmt: str) -> list[tuple[str, str]]:
    tars = _top_level_tars(path)
    if fmt == "img2dataset":
        if not tars:
            raise InputError(f"{path}: --input-format img2dataset reads the .tar files of an img2dataset output "
                             f"folder, and this folder has none ({found_in(path)})")
        return [(t, "img2dataset") for t in tars]
    has_images = next(_images(path), None) is not None
    if fmt == "auto" and tars and not has_images:
        return [(t, "img2dataset") for t in tars]
    if fmt == "auto" and tars:
        raise InputError(f"{path}: holds both images and .tar files; pass --input-format folder (the images) "
                         "or --input-format img2dataset (the tars)")
    if not has_images:
        raise InputError(f"{path}: no images ({', '.join(IMAGE_SUFFIXES)}) and no img2dataset .tar files "
                         f"in this folder ({found_in(path)}); name the files to read, or pass --input-format")
    return [(path, "folder")]


def _top_level_tars(path: str) -> list[str]:
    fs, local = fsspec.core.url_to_fs(path)
    names = fs.ls(local, detail=True)
    return sorted(with_protocol(e["name"], path) for e in names if e.get("type") == "file" and is_tar(e["name"]))


def _images(path: str) -> Iterator[str]:
    return (f for f in walk_files(path) if f.lower().endswith(IMAGE_SUFFIXES))


def found_in(path: str) -> str:
    """'found 3 entries: 2 .json, 1 folder' for an error message."""
    fs, local = fsspec.core.url_to_fs(path)
    kinds: Counter[str] = Counter()
    for n, entry in enumerate(fs.ls(local, detail=True)):
        if n >= SHOWN_ENTRIES:
            kinds["more"] += 1
            break
        name = posixpath.basename(entry["name"].rstrip("/"))
        if entry.get("type") == "directory":
            kinds["folder"] += 1
        else:
            kinds[os.path.splitext(name)[1].lower() or "no suffix"] += 1
    if not kinds:
        return "the folder is empty"
    total = sum(kinds.values())
    return f"found {total} entr{'y' if total == 1 else 'ies'}: " + ", ".join(f"{n} {k}" for k, n in kinds.most_common())
