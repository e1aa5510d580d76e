"""`humanverse dedup OUT`: mark duplicates across a finished run (nothing in the shards is changed).

The parser, the parameters and the summary live here; humanverse/cli.py runs the pass on Ray through
humanverse/engine/dedup_ray.py (this package never imports the engine)."""

from __future__ import annotations

import argparse

from rich.table import Table

from humanverse.config_base import apply_override
from humanverse.dedup.config import METHODS, DedupConfig

_THRESHOLD_KEYS = {"perceptual": "perceptual.max_distance", "semantic": "semantic.threshold"}


def add_dedup_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("dedup", help="mark exact, perceptual and semantic duplicates across a finished run")
    p.add_argument("output", metavar="OUT", help="a run's output folder (any fsspec URL)")
    p.add_argument("--method", default=None, metavar="M[,M...]",
                   help=f"comma-separated subset of {','.join(METHODS)} (default: all; semantic only when the "
                        "sidecars hold CLIP embeddings)")
    p.add_argument("--threshold", action="append", default=[], metavar="METHOD=VALUE",
                   help="perceptual=MAX_HAMMING_BITS (default 10) or semantic=MIN_COSINE (default 0.95)")
    p.add_argument("--set", action="append", default=[], metavar="section.key=value",
                   help="any other parameter, e.g. semantic.clusters=500 (see humanverse/dedup/config.py)")
    p.add_argument("--address", default=None, help="Ray cluster address (default: an embedded local Ray)")
    p.add_argument("--force", action="store_true", help="recompute every method even when its result is current")
    return p


def resolve_config(method: str | None, thresholds: list[str], sets: list[str]) -> DedupConfig:
    tree: dict = {}
    if method:
        names = [m.strip() for m in method.split(",") if m.strip()]
        unknown = sorted(set(names) - set(METHODS))
        if unknown or not names:
            raise ValueError(f"--method: unknown {unknown or 'empty list'}; choose from {', '.join(METHODS)}")
        tree["methods"] = names
    for item in thresholds:
        name, sep, value = item.partition("=")
        if not sep or name.strip() not in _THRESHOLD_KEYS:
            raise ValueError(f"--threshold {item!r}: use perceptual=N or semantic=X")
        apply_override(tree, f"{_THRESHOLD_KEYS[name.strip()]}={value}")
    for item in sets:
        apply_override(tree, item)
    from pydantic import ValidationError

    try:
        return DedupConfig.model_validate(tree)
    except ValidationError as exc:
        raise ValueError(f"dedup parameters: {exc}") from None


def summary_table(result) -> Table:
    table = Table(title=f"dedup: {result.marked} of {result.samples} kept samples marked as duplicates")
    for name in ("method", "marked", "note"):
        table.add_column(name, justify="right" if name == "marked" else "left")
    for method, n in result.per_method.items():
        note = "reused (run and parameters unchanged)" if method in result.reused else f"{result.seconds.get(method, 0):.1f} s"
        table.add_row(method, str(n), note)
    for method, why in result.skipped.items():
        table.add_row(method, "-", f"skipped: {why}")
    table.caption = (f"marks: {result.output}/dedup/duplicates.parquet (a sample marked by several methods counts "
                     f"once); fingerprints backfilled from tars: {result.backfilled}")
    return table
