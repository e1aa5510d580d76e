"""Each input file's format and reader (sources/globs.py turns --input patterns into the files)."""

from __future__ import annotations

import fsspec

from humanverse.sources.hagrid import HagridReader
from humanverse.sources.image_folder import ImageFolderReader
from humanverse.sources.input_error import InputError
from humanverse.sources.img2dataset_tars import Img2DatasetTarReader
from humanverse.sources.parquet_urls import ParquetURLReader

FORMATS = ("auto", "laion", "coyo", "img2dataset", "folder", "hagrid")


def detect_format(path: str, requested: str) -> str:
    """Returns laion|coyo|img2dataset|folder|hagrid (auto decides parquet flavour by columns at read time; hagrid
    is only ever asked for)."""
    fs, p = fsspec.core.url_to_fs(path)
    if requested != "auto":
        return requested
    if fs.isdir(p):
        return "folder"
    lower = p.lower()
    if lower.endswith(".tar") or lower.endswith(".tar.gz") or lower.endswith(".tgz"):
        return "img2dataset"
    if lower.endswith(".parquet"):
        return ParquetURLReader("auto", {}).resolved_format(path)
    raise InputError(f"{path}: cannot tell its format from the name (.parquet, .tar, .tar.gz, .tgz or a folder); "
                     f"pass --input-format (one of {', '.join(FORMATS[1:])}), or leave this file out of --input")


def reader_for(fmt: str, column_map: dict[str, str], dataset: str | None, max_bytes: int | None = None):
    """max_bytes caps each image read from a local input (tar member, folder file): the download cap."""
    caps = {} if max_bytes is None else {"max_bytes": max_bytes}
    if fmt in ("laion", "coyo", "auto"):
        return ParquetURLReader(fmt, column_map, dataset)
    if fmt == "img2dataset":
        return Img2DatasetTarReader(dataset, **caps)
    if fmt == "folder":
        return ImageFolderReader(dataset, **caps)
    if fmt == "hagrid":
        return HagridReader(dataset, **caps)
    raise ValueError(f"unknown input format {fmt!r}; one of {FORMATS}")
