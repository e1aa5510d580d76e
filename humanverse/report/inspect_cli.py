"""`humanverse inspect OUT`: write the HTML report of a run and print its funnel to the terminal."""

from __future__ import annotations

import argparse

from rich.table import Table

from humanverse.console import make_console
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
    p.set_defaults(func=cmd_inspect)
    return p


def cmd_inspect(args) -> int:
    from humanverse.report.build import build_report

    console = make_console()
    html, data = build_report(args.output, samples=max(0, args.samples), per_reason=max(0, args.per_reason),
                              seed=args.seed)
    if not data.summary.get("tasks"):
        raise FileNotFoundError(f"{args.output} has no complete shards (no shards/*.stats.json)")
    target = args.html or atomic.join(args.output, "report.html")
    atomic.write_bytes(target, html.encode("utf-8"))
    console.print(funnel_table(data.summary, data.demo))
    console.print(_reason_table(data))
    console.print(f"report: {target} ({len(html) / 1e6:.1f} MB, {len(data.kept)} kept samples shown)")
    return 0


def _reason_table(data) -> Table:
    table = Table(title="rows not kept, by reason")
    for name in ("status", "stage", "reason", "rows"):
        table.add_column(name, justify="right" if name == "rows" else "left")
    for label, n in data.rejected_totals.items():
        table.add_row(*label.split(":", 2), str(n))
    return table
