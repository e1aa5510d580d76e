"""The report as one HTML file: inline CSS, every image a data: URI, no scripts, nothing fetched."""

from __future__ import annotations

import datetime as dt
from html import escape

from humanverse.report.charts import Chart
from humanverse.report.contact_sheet import SheetCell, skeleton_drawer
from humanverse.report.dedup_section import dedup_html
from humanverse.report.inspect import RunData
from humanverse.report.plots import funnel_chart
from humanverse.report.thumbnails import thumbnail_uri

_CSS = """
body{font-family:system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:24px;color:#212121;background:#fafafa}
h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:1px solid #ccc;padding-bottom:4px}
table{border-collapse:collapse;font-size:13px;background:#fff}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#eceff1}td.n{text-align:right;font-variant-numeric:tabular-nums}
.banner{background:#fff3e0;border:1px solid #ef6c00;padding:8px 12px;margin:12px 0}
.charts{display:flex;flex-wrap:wrap;gap:16px}.charts figure{margin:0;background:#fff;border:1px solid #ddd;padding:6px}
.sheet{display:flex;flex-wrap:wrap;gap:14px}.cell{background:#fff;border:1px solid #ddd;padding:8px;max-width:100%}
.panels{display:flex;gap:6px;align-items:flex-start}.panels figure{margin:0}figcaption{font-size:11px;color:#555}
.facts{font-size:12px;color:#333}.caption{font-size:12px;font-style:italic;max-width:720px}
img.thumb{max-height:240px}img.reject{max-height:120px}.muted{color:#777;font-size:12px}code{font-size:12px}
"""


def render(data: RunData, charts: list[Chart], cells: list[SheetCell]) -> str:
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>humanverse run report: {escape(data.output)}</title><style>{_CSS}</style></head><body>",
        f"<h1>humanverse run report</h1><div class='muted'><code>{escape(data.output)}</code></div>",
        _demo_banner(data),
        _run_section(data),
        _funnel_section(data),
        _charts_section(charts),
        _sheet_section(cells, len(data.kept)),
        dedup_html(data.dedup),
        _rejected_section(data),
        _skipped_section(data),
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p)


def _demo_banner(data: RunData) -> str:
    if not data.demo:
        return ""
    what = data.provenance or "untrained models (random weights) except the OpenCV HOG person detector"
    return (f"<div class='banner'><b>demo run:</b> {escape(what)}. The thresholds of untrained scoring stages are "
            "off: nothing here is a quality filter.</div>")


def _run_section(data: RunData) -> str:
    run = data.run or {}
    c = data.summary.get("counts", {})
    rows = [
        ("status", run.get("status", "no run.json")),
        ("started / finished", f"{_time(run.get('started_at'))} / {_time(run.get('finished_at'))}"),
        ("humanverse version", run.get("humanverse_version")),
        ("models", data.provenance),
        ("config digest", run.get("config_digest")),
        ("input digest", run.get("input_digest")),
        ("complete tasks", data.summary.get("tasks", 0)),
        ("input rows", c.get("input", 0)),
        ("ok (written)", c.get("ok", 0)),
        ("rejected", c.get("rejected", 0)),
        ("errors", f"{c.get('error', 0)} ({c.get('transient_errors', 0)} transient)"),
    ]
    models = run.get("models") if isinstance(run.get("models"), dict) else {}
    rows += [(f"model: {name}", mid) for name, mid in sorted(models.items())]
    body = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<h2>Run</h2><table>{body}</table>"


def _funnel_section(data: RunData) -> str:
    head = "<tr><th>stage</th><th>in</th><th>kept</th><th>dropped</th><th>reasons (count)</th></tr>"
    body = []
    for s in data.summary.get("stages", []):
        why = ", ".join(f"{r.split(':', 2)[0]} {r.split(':', 2)[2]} ({n})"
                        for r, n in data.summary.get("reasons", {}).items() if r.split(":", 2)[1] == s["stage"])
        body.append(f"<tr><td>{_e(s['stage'])}</td><td class='n'>{_e(s['in'])}</td><td class='n'>{_e(s['ok'])}</td>"
                    f"<td class='n'>{_e(s['in'] - s['ok'])}</td><td>{_e(why)}</td></tr>")
    uri = funnel_chart(data.summary)
    chart = f"<figure><img alt='filter funnel' src='{uri}'></figure>" if uri else ""
    c = data.summary.get("counts", {})
    check = (f"<p class='muted'>input {_e(c.get('input', 0))} = ok {_e(c.get('ok', 0))} + rejected "
             f"{_e(c.get('rejected', 0))} + errors {_e(c.get('error', 0))}</p>")
    return f"<h2>Filter funnel</h2><table>{head}{''.join(body)}</table>{check}{chart}"


def _charts_section(charts: list[Chart]) -> str:
    figs = []
    for ch in charts:
        inner = (f"<img alt='{escape(ch.title)}' src='{ch.uri}'>" if ch.uri
                 else f"<p class='muted'>{escape(ch.empty_note)}</p>")
        figs.append(f"<figure>{inner}<figcaption>{escape(ch.title)}</figcaption></figure>")
    return f"<h2>Distributions</h2><div class='charts'>{''.join(figs)}</div>"


def _sheet_section(cells: list[SheetCell], sampled: int) -> str:
    if not cells:
        return "<h2>Kept samples</h2><p class='muted'>no kept samples in complete tasks</p>"
    items = []
    for cell in cells:
        panels = "".join(f"<figure><img class='thumb' alt='{escape(t)} {escape(cell.key)}' src='{uri}'>"
                         f"<figcaption>{escape(t)}</figcaption></figure>" for t, uri in cell.panels)
        facts = " · ".join(f"{escape(k)} {escape(v)}" for k, v in cell.facts.items())
        items.append(f"<div class='cell'><div class='facts'><code>{escape(cell.key)}</code> "
                     f"(shard {escape(cell.task_id)}) · {facts}</div><div class='panels'>{panels}</div>"
                     f"<div class='caption'>{escape(cell.caption[:300])}</div></div>")
    note = (f"<p class='muted'>{_e(len(cells))} random kept samples (of {_e(sampled)} sampled). Skeleton: "
            f"{escape(skeleton_drawer())}. Depth and normal maps appear when the shard has those members.</p>")
    return f"<h2>Kept samples</h2>{note}<div class='sheet'>{''.join(items)}</div>"


def _rejected_section(data: RunData) -> str:
    if not data.rejected:
        return "<h2>Rejected and failed rows</h2><p class='muted'>none</p>"
    intro = ("<h2>Rejected and failed rows</h2><p class='muted'>A random few per reason. Rejected rows keep no "
             "pixels in the tar; a thumbnail is shown only when the row came from a local image folder or "
             "img2dataset tar named with <code>inspect --input</code>. URLs are never fetched by the report.</p>")
    blocks = [intro]
    for label, examples in data.rejected.items():
        status, stage, reason = label.split(":", 2)
        total = data.rejected_totals.get(label, len(examples))
        rows = []
        for ex in examples:
            thumb = thumbnail_uri(ex.image) if ex.image else None
            img = f"<img class='reject' alt='rejected {escape(ex.key)}' src='{thumb}'>" if thumb else "–"
            rows.append(f"<tr><td><code>{escape(ex.key)}</code></td><td>{escape(ex.url or ex.source_id or '')}</td>"
                        f"<td>{img}</td></tr>")
        blocks.append(f"<h3>{_e(status)} at {_e(stage)}: {_e(reason)} ({_e(total)} rows)</h3>"
                      f"<table><tr><th>key</th><th>url / source id</th><th>image</th></tr>{''.join(rows)}</table>")
    return "".join(blocks)


def _time(ts) -> str:
    if not ts:
        return "–"
    try:
        return dt.datetime.fromtimestamp(float(ts), tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (TypeError, ValueError, OverflowError, OSError):  # run.json may come from others
        return "–"


def _e(value) -> str:
    """Everything shown is escaped, numbers included: a pulled run's files may hold markup where numbers go."""
    return escape(str(value), quote=True)


def _skipped_section(data: RunData) -> str:
    if not data.skipped:
        return ""
    items = ", ".join(f"{_e(reason)} ({_e(n)})" for reason, n in sorted(data.skipped.items()))
    return (f"<h2>Left out as unreadable</h2><p class='muted'>Files and samples of this run folder that break the "
            f"format were skipped and counted: {items}.</p>")
