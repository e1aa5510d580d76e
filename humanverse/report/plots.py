"""The report's charts, drawn with matplotlib and returned as base64 PNG data URIs (self-contained HTML).

Figures are built with matplotlib.figure.Figure directly, not pyplot, so no global backend or figure
state leaks into the caller (the pose visualiser also uses matplotlib).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

from matplotlib.figure import Figure

from humanverse.console import untrusted_text

KEPT_COLOUR = "#2e7d32"
ALL_COLOUR = "#90a4ae"
MAX_BARS = 30
"""Bars (stages, reasons) a chart draws at most; the rest are summed as 'other' (a pulled run's stats may list
thousands, and a figure's size grows with them)."""
_REASON_COLOURS = ["#c62828", "#ef6c00", "#6a1b9a", "#1565c0", "#00838f", "#ad1457", "#4e342e", "#9e9d24",
                   "#37474f", "#d84315"]


def figure_data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def funnel_chart(summary: dict) -> str | None:
    """One bar per stage: rows kept, then rows dropped there, stacked by reason."""
    stages = summary.get("stages", [])[:MAX_BARS]
    if not stages:
        return None
    names = [s["stage"] for s in stages]
    dropped: dict[str, dict[str, int]] = {}  # "status reason" -> stage -> count
    for label, count in summary.get("reasons", {}).items():
        status, stage, reason = label.split(":", 2)
        dropped.setdefault(untrusted_text(f"{status} {reason}").plain, {})[stage] = count
    fig = Figure(figsize=(9, 0.45 * len(names) + 1.4))
    ax = fig.add_subplot()
    y = list(range(len(names)))[::-1]
    kept = [s["ok"] for s in stages]
    ax.barh(y, kept, color=KEPT_COLOUR, label="kept")
    left = list(kept)
    ranked = sorted(dropped.items(), key=lambda kv: -sum(kv[1].values()))
    if len(ranked) > len(_REASON_COLOURS):
        other: dict[str, int] = {}
        for _, per_stage in ranked[len(_REASON_COLOURS) - 1:]:
            for stage, n in per_stage.items():
                other[stage] = other.get(stage, 0) + n
        ranked = [*ranked[: len(_REASON_COLOURS) - 1], ("other reasons", other)]
    for i, (label, per_stage) in enumerate(ranked):
        widths = [per_stage.get(n, 0) for n in names]
        ax.barh(y, widths, left=left, color=_REASON_COLOURS[i % len(_REASON_COLOURS)], label=label)
        left = [a + b for a, b in zip(left, widths)]
    for yi, s in zip(y, stages):
        ax.text(s["in"], yi, f" {s['ok']}/{s['in']}", va="center", fontsize=8)
    ax.set_yticks(y, [untrusted_text(n).plain for n in names])
    ax.set_xlabel("rows entering the stage")
    ax.set_title("filter funnel: kept and dropped per stage")
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(1.01, 0), frameon=False)
    ax.set_xlim(0, max(s["in"] for s in stages) * 1.15 or 1)
    return figure_data_uri(fig)


def histogram(values: Sequence[float], kept: Sequence[float], title: str, xlabel: str,
              threshold: float | None = None, discrete: bool = False) -> str | None:
    """All rows that got this value (grey) with the kept ones on top (green); None when nobody has it."""
    if not values:
        return None
    fig = Figure(figsize=(4.0, 2.7))
    ax = fig.add_subplot()
    discrete = discrete and int(max(values)) - int(min(values)) <= 100  # a hostile count gets plain bins
    if discrete:
        lo, hi = int(min(values)), int(max(values))
        bins = [b - 0.5 for b in range(lo, hi + 2)]
    else:
        bins = 20
    _, edges, _ = ax.hist(values, bins=bins, color=ALL_COLOUR, label=f"all scored ({len(values)})")
    if kept:
        ax.hist(kept, bins=edges, color=KEPT_COLOUR, label=f"kept ({len(kept)})")
    if threshold is not None:
        ax.axvline(threshold, color="#c62828", linestyle="--", label=f"threshold {threshold:g}")
    if discrete:
        ax.set_xticks(range(int(min(values)), int(max(values)) + 1))
    ax.set_title(title, fontsize=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rows")
    ax.legend(fontsize=7)
    return figure_data_uri(fig)


def reason_bars(counts: dict[str, int], title: str) -> str | None:
    if not counts:
        return None
    if len(counts) > MAX_BARS:
        ranked = sorted(counts.items(), key=lambda kv: -kv[1])
        counts = {**dict(ranked[: MAX_BARS - 1]), "other reasons": sum(n for _, n in ranked[MAX_BARS - 1:])}
    counts = {untrusted_text(k).plain: v for k, v in counts.items()}  # reasons come from the run's files
    labels = list(counts)[::-1]
    fig = Figure(figsize=(4.6, 0.35 * len(labels) + 1.2))
    ax = fig.add_subplot()
    ax.barh(labels, [counts[k] for k in labels], color="#c62828")
    for i, k in enumerate(labels):
        ax.text(counts[k], i, f" {counts[k]}", va="center", fontsize=8)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("rows")
    ax.set_xlim(0, max(counts.values()) * 1.2)
    ax.tick_params(axis="y", labelsize=8)
    return figure_data_uri(fig)
