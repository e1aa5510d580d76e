"""Inputs to tasks: every input file is cut into bounded row ranges with stable task ids.

The plan is compact: one InputFile per input (its rows and, for parquet, its row-group sizes); tasks are
arithmetic on it (file index, chunk), made when they are fed, so a plan of millions of tasks costs the
driver the size of its file list. Input files are described in parallel (a footer read each, which on
object storage is a round trip).
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from itertools import accumulate

from humanverse.core.task import TaskSpec
from humanverse.sources import inputs as input_files
from humanverse.sources.globs import expand
from humanverse.sources.input_error import UNREADABLE_INPUT, InputError
from humanverse.sources.input_listing import resolve_inputs
from humanverse.sources.keys import task_id
from humanverse.sources.parquet_urls import ParquetURLReader

PLAN_THREADS = 8
"""Footer reads in flight while planning: I/O bound, so threads, not cores. Not more: each thread's
allocator arena keeps what parsing its footers took (40 footers of 25k row groups: +380 MB of driver RSS
with 32 threads, +110 MB with 4, measured)."""


@dataclass(frozen=True)
class InputFile:
    path: str
    format: str
    rows: int
    row_groups: tuple[int, ...] = ()
    """Rows per parquet row group (empty for other formats): tasks sharing a group are read together."""


@dataclass(frozen=True)
class Plan:
    inputs: list[InputFile]
    rows_per_task: int
    _task_starts: list[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        counts = [-(-i.rows // self.rows_per_task) for i in self.inputs]
        object.__setattr__(self, "_task_starts", [0, *accumulate(counts)])

    @property
    def total_rows(self) -> int:
        return sum(i.rows for i in self.inputs)

    @property
    def num_tasks(self) -> int:
        return self._task_starts[-1]

    def tasks_in(self, index: int) -> int:
        return self._task_starts[index + 1] - self._task_starts[index]

    def first_task(self, index: int) -> int:
        """The ordinal (position in plan order) of input `index`'s first task."""
        return self._task_starts[index]

    def locate(self, ordinal: int) -> tuple[int, int]:
        """Plan-order position -> (input index, chunk)."""
        index = bisect.bisect_right(self._task_starts, ordinal) - 1
        return index, ordinal - self._task_starts[index]

    def task(self, index: int, chunk: int) -> TaskSpec:
        f = self.inputs[index]
        start = chunk * self.rows_per_task
        return TaskSpec(task_id=task_id(index, chunk), input_path=f.path, input_format=f.format,
                        start=start, stop=min(f.rows, start + self.rows_per_task), input_index=index)

    def iter_tasks(self) -> Iterator[TaskSpec]:
        for index in range(len(self.inputs)):
            for chunk in range(self.tasks_in(index)):
                yield self.task(index, chunk)

    @property
    def tasks(self) -> list[TaskSpec]:
        """Every task as a list: for small plans and tests; the driver streams iter_tasks()/task_feed."""
        return list(self.iter_tasks())

    def unit_bounds(self, index: int, chunk: int) -> tuple[int, int]:
        """[first, end) chunks of the read unit holding `chunk`: the run of tasks that share row groups,
        cut only where a task boundary is also a row-group boundary (non-parquet: every task alone)."""
        aligned = self._aligned[index]
        if aligned is None:
            return chunk, chunk + 1
        at = bisect.bisect_right(aligned, chunk)
        return aligned[at - 1], aligned[at] if at < len(aligned) else self.tasks_in(index)

    @cached_property
    def _aligned(self) -> list[list[int] | None]:
        """Per input, the chunks whose first row starts a row group (None: no row groups). Made where
        windows are cut (the read actor), never in the driver."""
        out: list[list[int] | None] = []
        for f in self.inputs:
            if not f.row_groups:
                out.append(None)
                continue
            starts = [0, *accumulate(f.row_groups)][:-1]
            out.append(sorted({s // self.rows_per_task for s in starts if s % self.rows_per_task == 0} | {0}))
        return out

    def digest(self) -> str:
        """Changes when the input list, a file's row count, or the chunking changes (row-group sizes are
        left out on purpose: they decide how tasks are read together, never which rows a task holds)."""
        data = [(i.path, i.format, i.rows) for i in self.inputs] + [self.num_tasks]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def describe(path: str, fmt: str, column_map: dict[str, str], dataset: str | None) -> InputFile:
    """One input's format, rows and row groups; a parquet footer is read once for all three. An input
    that cannot be read is an InputError naming it (exit 2 before anything is written), never a traceback."""
    try:
        if fmt in ("laion", "coyo") or (fmt == "auto" and path.lower().endswith(".parquet")):
            layout = ParquetURLReader(fmt, column_map, dataset).layout(path)
            return InputFile(path, layout.format, layout.rows, layout.row_groups)
        file_format = input_files.detect_format(path, fmt)
        return InputFile(path, file_format, input_files.reader_for(file_format, column_map, dataset).count(path))
    except InputError:
        raise
    except UNREADABLE_INPUT as error:
        as_format = "" if fmt == "auto" else f" as {fmt} input"
        raise InputError(f"{path}: cannot be read{as_format} ({type(error).__name__}: {error}); "
                         "fix or remove this file, or pass the right --input-format") from error


def plan(patterns: list[str], fmt: str, column_map: dict[str, str], rows_per_task: int, dataset: str | None) -> Plan:
    named = resolve_inputs(expand(patterns, what="--input"), fmt)
    with ThreadPoolExecutor(max_workers=max(1, min(PLAN_THREADS, len(named)))) as pool:
        files = list(pool.map(lambda item: describe(item[0], item[1], column_map, dataset), named))
    return Plan(files, rows_per_task)
