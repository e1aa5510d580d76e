"""LAION / Re-LAION / COYO metadata parquet: one row per URL.

Spark-written metadata often holds ~1M rows in one row group, and a row group's column chunk is the unit
parquet can read. So tasks that share a row group are read together (`read_many`): one pass over the row
groups they need, streamed in bounded batches, each byte of the needed column chunks read about once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import fsspec
import pyarrow.parquet as pq

from humanverse.core.sample import Sample
from humanverse.core.task import TaskSpec
from humanverse.sources import columns
from humanverse.sources.input_error import InputError
from humanverse.sources.keys import sample_key
from humanverse.sources.metadata_values import MAX_TEXT_CHARS, clean_row
from humanverse.sources.parquet_checks import batch_rows, cap_text, check_row_counts, text_columns

READ_BUFFER_BYTES = 1 << 20
"""pyarrow reads a column chunk through a buffer this big instead of holding the whole chunk."""
OPEN_OPTIONS = {"cache_type": "none"}
"""No fsspec read-ahead: pyarrow already asks for exactly the byte ranges it needs (s3fs's default would
fetch up to 50 MB past each, mostly columns the run never reads)."""


@dataclass(frozen=True)
class ParquetLayout:
    """What the planner needs from a parquet file's footer."""

    rows: int
    row_groups: tuple[int, ...]
    """Rows in each row group, in file order."""
    format: str


def open_parquet(path: str):
    """fs.open, not fsspec.open: the latter would hand the cache options to the filesystem's constructor."""
    fs, local = fsspec.core.url_to_fs(path)
    return fs.open(local, "rb", **OPEN_OPTIONS)


class ParquetURLReader:
    def __init__(self, fmt: str, column_map: dict[str, str], dataset: str | None = None):
        self.fmt = fmt
        self.column_map = dict(column_map)
        self.dataset = dataset

    def layout(self, path: str) -> ParquetLayout:
        """Row count, row-group sizes and (for "auto") the flavour, from one footer read. The schema must
        give a URL column and the row counts must fit the file's bytes (parquet_checks), else InputError."""
        with open_parquet(path) as f:
            pf = pq.ParquetFile(f)
            meta = pf.metadata
            names = pf.schema_arrow.names
            fmt = columns.guess_format(names) if self.fmt == "auto" else self.fmt
            try:
                mapping = columns.resolve(names, fmt, self.column_map)
            except ValueError as error:
                raise InputError(f"{path}: {error}") from error
            check_row_counts(path, meta, mapping["url"], f.seek(0, 2))
            groups = tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups))
        return ParquetLayout(meta.num_rows, groups, fmt)

    def count(self, path: str) -> int:
        return self.layout(path).rows

    def resolved_format(self, path: str) -> str:
        return self.layout(path).format

    def read(self, spec: TaskSpec) -> list[Sample]:
        return next(iter(self.read_many([spec])))[1]

    def read_many(self, specs: Sequence[TaskSpec]) -> Iterator[tuple[TaskSpec, list[Sample]]]:
        """Tasks of one file, sorted by start: yields each task's samples as soon as its rows are read.
        Every row group the tasks overlap is read once, whatever the task boundaries."""
        specs = sorted(specs, key=lambda s: s.start)
        if not specs:
            return
        if len({s.input_path for s in specs}) != 1:
            raise ValueError("read_many reads tasks of one input file")
        with open_parquet(specs[0].input_path) as f:
            footer = pq.ParquetFile(f).metadata  # read once: the reader below is handed it
            schema = footer.schema.to_arrow_schema()
            names = schema.names
            fmt = columns.guess_format(names) if self.fmt in ("auto", "parquet") else self.fmt
            mapping = columns.resolve(names, fmt, self.column_map)
            cols = sorted(set(mapping.values()))
            texts = text_columns(schema, cols)
            pf = pq.ParquetFile(f, metadata=footer, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
            pending = list(specs)
            rows: list[dict[str, Any]] = []  # rows of pending[0] read so far
            cut: list[list[str]] = []  # per row of `rows`, its text columns cut to MAX_TEXT_CHARS
            for first, batch in _batches(pf, f, cols, texts, specs[0].start, max(s.stop for s in specs)):
                batch, batch_cut = cap_text(batch, texts)
                last = first + batch.num_rows
                while pending:  # a batch can finish several tasks, or none
                    spec = pending[0]
                    lo, hi = max(spec.start, first), min(spec.stop, last)
                    if hi > lo:
                        rows.extend(batch.slice(lo - first, hi - lo).to_pylist())
                        if batch_cut:
                            cut.extend([c for c, flags in batch_cut.items() if flags[i - first]] for i in range(lo, hi))
                        else:
                            cut.extend([NOTHING_CUT] * (hi - lo))
                    if spec.stop > last:
                        break
                    yield spec, self._samples(spec, fmt, mapping, rows, cut)
                    pending.pop(0)
                    rows, cut = [], []
            for spec in pending:  # past the end of the file (a plan older than the file): no rows
                yield spec, self._samples(spec, fmt, mapping, rows, cut)
                rows, cut = [], []

    def _samples(self, spec: TaskSpec, fmt: str, mapping: dict[str, str], rows: list[dict[str, Any]],
                 cut: list[list[str]]) -> list[Sample]:
        samples = []
        for offset, row in enumerate(rows):
            index = spec.start + offset
            if not spec.selects(index):
                continue
            meta, problems = clean_row(mapping, row)
            for column in cut[offset]:
                problems[column] = "too_long" if column == mapping["url"] else f"cut_to_{MAX_TEXT_CHARS}_chars"
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
            if mapping["url"] in problems:  # nothing (or not the URL given) to fetch: the row's own error
                sample.fail("read", f"bad_metadata:{mapping['url']}")
            samples.append(sample)
        return samples


BATCH_ROWS = 4096
NOTHING_CUT: list[str] = []


def _batches(pf: pq.ParquetFile, f, cols: list[str], texts: list[str], start: int, stop: int):
    """(first row, record batch) over the row groups that overlap [start, stop), each read once, in
    batches of BATCH_ROWS so a 1M-row group never sits in memory as Python rows, or fewer where a text
    column's dictionary could repeat a large value on every row (parquet_checks.batch_rows)."""
    first = 0
    for rg in range(pf.metadata.num_row_groups):
        n = pf.metadata.row_group(rg).num_rows
        if first + n > start and first < stop:
            at = first
            rows = batch_rows(f, pf.metadata.row_group(rg), texts, BATCH_ROWS)
            for batch in pf.iter_batches(batch_size=rows, row_groups=[rg], columns=cols):
                yield at, batch
                at += batch.num_rows
                if at >= stop:
                    return
        first += n
        if first >= stop:
            return
