"""Collect a run's data and render the HTML report: the one call the CLI and tests make."""

from __future__ import annotations

from humanverse.report.charts import make_charts
from humanverse.report.contact_sheet import build_cells
from humanverse.report.html import render
from humanverse.report.inspect import RunData, collect


def build_report(output: str, samples: int = 24, per_reason: int = 6, seed: int = 0,
                 inputs: list[str] | None = None) -> tuple[str, RunData]:
    """`inputs`: local inputs the user named (inspect --input) whose images rejected rows may show."""
    data = collect(output, samples=samples, per_reason=per_reason, seed=seed, inputs=inputs)
    cells = build_cells(data.kept, data.skipped)
    return render(data, make_charts(data), cells), data
