"""LAION / Re-LAION / COYO metadata parquet: one row per URL, read a row-group range at a time."""

from __future__ import annotations

from typing import Any

import fsspec
import pyarrow.parquet as pq

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources import columns
from humanverse.sources.keys import sample_key
from humanverse.sources.metadata_values import clean_row


class ParquetURLReader:
    def __init__(self, fmt: str, column_map: dict[str, str], dataset: str | None = None):
        self.fmt = fmt
        self.column_map = dict(column_map)
        self.dataset = dataset

    def count(self, path: str) -> int:
        with fsspec.open(path, "rb") as f:
            return pq.ParquetFile(f).metadata.num_rows

    def resolved_format(self, path: str) -> str:
        with fsspec.open(path, "rb") as f:
            names = pq.ParquetFile(f).schema_arrow.names
        return columns.guess_format(names) if self.fmt == "auto" else self.fmt

    def read(self, spec: TaskSpec) -> list[Sample]:
        with fsspec.open(spec.input_path, "rb") as f:
            pf = pq.ParquetFile(f)
            names = pf.schema_arrow.names
            fmt = columns.guess_format(names) if self.fmt in ("auto", "parquet") else self.fmt
            mapping = columns.resolve(names, fmt, self.column_map)
            rows = _read_range(pf, sorted(set(mapping.values())), spec.start, spec.stop)
        samples = []
        for offset, row in enumerate(rows):
            index = spec.start + offset
            if not spec.selects(index):
                continue
            meta, problems = clean_row(mapping, row)
            url = meta.pop("url", None)
            caption = meta.pop("caption", None) or ""
            source_id = meta.pop("source_id", None)
            sample = Sample(
                key=sample_key(spec.input_index, index),
                task_id=spec.task_id,
                source={
                    "dataset": self.dataset or fmt,
                    "url": url,
                    "source_id": source_id,
                    "input": spec.input_path,
                    "row": index,
                },
                caption=caption,
                meta=meta,
            )
            if problems:
                sample.info["metadata_problems"] = problems
            if mapping["url"] in problems:  # nothing to fetch: the row's own error
                sample.fail("read", f"bad_metadata:{mapping['url']}")
            samples.append(sample)
        return samples


def _read_range(pf: pq.ParquetFile, cols: list[str], start: int, stop: int) -> list[dict[str, Any]]:
    """Read only the row groups that overlap [start, stop)."""
    out: list[dict[str, Any]] = []
    first = 0
    for rg in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(rg).num_rows
        last = first + n
        if last > start and first < stop:
            table = pf.read_row_group(rg, columns=cols)
            lo, hi = max(start, first) - first, min(stop, last) - first
            out.extend(table.slice(lo, hi - lo).to_pylist())
        first = last
        if first >= stop:
            break
    return out

