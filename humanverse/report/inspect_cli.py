"""`humanverse inspect OUT`: write the HTML report of a run and print its funnel to the terminal."""

from __future__ import annotations

import argparse

from rich.table import Table

from humanverse.console import make_console, untrusted_text
from humanverse.shards.funnel import funnel_table
from humanverse.shards import atomic


def add_inspect_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("inspect", help="an HTML report of a run: funnel, distributions, samples, rejects")
    p.add_argument("output", metavar="OUT", help="a run's output folder (any fsspec URL)")
    p.add_argument("--html", default=None, metavar="PATH",
                   help="where to write the report (any fsspec URL; default: OUT/report.html)")
    p.add_argument("--samples", type=int, default=24, metavar="N", help="random kept samples on the contact sheet")
    p.add_argument("--per-reason", type=int, default=6, metavar="N", help="rejected rows listed per reason")
    p.add_argument("--seed", type=int, default=0, help="seed for picking samples (same seed, same report)")
    p.add_argument("--input", action="append", default=[], metavar="PATH",
                   help="a local image folder or img2dataset tar the run read (repeatable): rejected rows from it "
                        "get a thumbnail. Only inputs named here are read, never those listed in run.json")
    p.set_defaults(func=cmd_inspect)
    return p


def cmd_inspect(args) -> int:
    from humanverse.report.build import build_report

    console = make_console()
    html, data = build_report(args.output, samples=max(0, args.samples), per_reason=max(0, args.per_reason),
                              seed=args.seed, inputs=args.input)
    if not data.summary.get("tasks"):
        raise FileNotFoundError(f"{args.output} has no complete shards (no shards/*.stats.json)")
    target = args.html or atomic.join(args.output, "report.html")
    atomic.write_bytes(target, html.encode("utf-8"))
    console.print(funnel_table(data.summary, data.demo))
    if data.provenance:
        console.print(untrusted_text(f"models: {data.provenance}"))
    console.print(_reason_table(data))
    if data.dedup is not None:
        console.print(_dedup_table(data.dedup))
    if data.skipped:
        console.print(untrusted_text(f"left out as unreadable: {dict(sorted(data.skipped.items()))}"))
    console.print(f"report: {target} ({len(html) / 1e6:.1f} MB, {len(data.kept)} kept samples shown)")
    return 0


MAX_ROWS = 50
"""Reasons printed at most (a pulled run may hold thousands; the HTML report lists them all)."""


def _reason_table(data) -> Table:
    """Every value comes from the run's sidecars: printed as plain text (console.untrusted_text)."""
    table = Table(title="rows not kept, by reason")
    for name in ("status", "stage", "reason", "rows"):
        table.add_column(name, justify="right" if name == "rows" else "left")
    labels = list(data.rejected_totals.items())
    for label, n in labels[:MAX_ROWS]:
        table.add_row(*map(untrusted_text, label.split(":", 2)), str(n))
    if len(labels) > MAX_ROWS:
        table.caption = f"{len(labels) - MAX_ROWS} more reasons in the HTML report"
    return table


def _dedup_table(view) -> Table:
    man = view.manifest
    methods = man.get("methods") if isinstance(man.get("methods"), dict) else {}
    table = Table(title=untrusted_text(
        f"duplicates: {man.get('marked', 0)} of {man.get('samples', 0)} kept samples marked"))
    for name in ("method", "marked by it", "final marks"):
        table.add_column(name, justify="left" if name == "method" else "right")
    for method, info in list(methods.items())[:MAX_ROWS]:
        marked = info.get("marked", 0) if isinstance(info, dict) else "?"
        table.add_row(untrusted_text(method), untrusted_text(marked), str(view.by_method.get(method, 0)))
    return table
