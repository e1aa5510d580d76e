"""Inputs to tasks: every input file is cut into bounded row ranges with stable task ids."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from humanverse.core.task import TaskSpec
from humanverse.sources import inputs as input_files
from humanverse.sources.globs import expand
from humanverse.sources.keys import task_id


@dataclass(frozen=True)
class InputFile:
    path: str
    format: str
    rows: int


@dataclass(frozen=True)
class Plan:
    inputs: list[InputFile]
    tasks: list[TaskSpec]

    @property
    def total_rows(self) -> int:
        return sum(i.rows for i in self.inputs)

    def digest(self) -> str:
        """Changes when the input list, a file's row count, or the chunking changes."""
        data = [(i.path, i.format, i.rows) for i in self.inputs] + [len(self.tasks)]
        return hashlib.sha256(json.dumps(data).encode()).hexdigest()


def plan(patterns: list[str], fmt: str, column_map: dict[str, str], rows_per_task: int, dataset: str | None) -> Plan:
    files: list[InputFile] = []
    tasks: list[TaskSpec] = []
    for index, path in enumerate(expand(patterns, what="--input")):
        file_format = input_files.detect_format(path, fmt)
        rows = input_files.reader_for(file_format, column_map, dataset).count(path)
        files.append(InputFile(path, file_format, rows))
        for chunk, start in enumerate(range(0, rows, rows_per_task)):
            tasks.append(
                TaskSpec(
                    task_id=task_id(index, chunk),
                    input_path=path,
                    input_format=file_format,
                    start=start,
                    stop=min(rows, start + rows_per_task),
                    input_index=index,
                )
            )
    return Plan(files, tasks)
