"""`humanverse export --run DIR --output DIR`: a trained run as diffusers-loadable folders with a model card."""

from __future__ import annotations

import argparse
import sys


def _add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--run", required=True, help="a run directory (its latest checkpoint) or one checkpoint folder")
    p.add_argument("--output", required=True, help="a new folder")
    p.add_argument("--no-ema", dest="use_ema", action="store_false", help="export the raw weights, not the EMA")
    p.set_defaults(func=run, handler=run)
    return p


def add_export_parser(subparsers) -> argparse.ArgumentParser:
    return _add_arguments(subparsers.add_parser("export", help="export a trained run for diffusers users",
                                                description=__doc__))


def run(args: argparse.Namespace) -> int:
    from humanverse.train.export.run_export import export_run

    record = export_run(args.run, args.output, args.use_ema)
    print(f"exported {record['stage']} step {record['step']} to {args.output} (model card: README.md)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _add_arguments(argparse.ArgumentParser(prog="humanverse export", description=__doc__)).parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
