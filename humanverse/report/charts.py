"""Which charts the report shows, fed from the sidecar columns and the thresholds recorded in run.json."""

from __future__ import annotations

from dataclasses import dataclass

from humanverse.report import plots
from humanverse.report.inspect import RunData


@dataclass
class Chart:
    title: str
    uri: str | None
    empty_note: str  # shown instead of the chart when no row has the value


def make_charts(data: RunData) -> list[Chart]:
    rows = data.sidecar.select(["status", "aesthetic", "n_persons", "human_area_frac"]).to_pylist()
    config = data.config

    def column(name: str) -> tuple[list, list]:
        have = [r for r in rows if r[name] is not None]
        return [r[name] for r in have], [r[name] for r in have if r["status"] == "ok"]

    aesthetic, aesthetic_kept = column("aesthetic")
    persons, persons_kept = column("n_persons")
    area, area_kept = column("human_area_frac")
    errors = {k.split(":", 2)[1] + ": " + k.split(":", 2)[2]: n for k, n in data.rejected_totals.items()
              if k.startswith("error:")}
    rejects = {k.split(":", 2)[1] + ": " + k.split(":", 2)[2]: n for k, n in data.rejected_totals.items()
               if k.startswith("rejected:")}
    return [
        Chart("aesthetic score (LAION, 1–10)",
              plots.histogram(aesthetic, aesthetic_kept, "aesthetic score", "LAION aesthetic (1–10)",
                              find_setting(config, "aesthetic", "min_score")),
              "no row has an aesthetic score (the run had no aesthetic stage)"),
        Chart("persons per image",
              plots.histogram(persons, persons_kept, "persons per image", "person boxes", discrete=True),
              "no row reached person detection"),
        Chart("human area (union of person boxes / image)",
              plots.histogram(area, area_kept, "human area fraction", "human_area_frac (union)",
                              find_setting(config, "person", "min_area_frac")),
              "no row reached person detection"),
        Chart("errors by stage and reason", plots.reason_bars(errors, "errors"), "no errors"),
        Chart("rejections by stage and reason", plots.reason_bars(rejects, "rejections"), "no rejections"),
    ]


def find_setting(config: dict, section: str, key: str) -> float | None:
    """config[...][section][key] at any depth (stage sections may be nested under a group)."""
    if not isinstance(config, dict):
        return None
    if isinstance(config.get(section), dict) and isinstance(config[section].get(key), (int, float)):
        return float(config[section][key])
    for value in config.values():
        found = find_setting(value, section, key)
        if found is not None:
            return found
    return None
