"""The command-line flags every trainer takes, and how they become a validated config.

Both `train lsd` and `train refiner` parse through here, so the two stages cannot drift apart in how data,
output, presets, overrides and resume are spelled.
"""

from __future__ import annotations

import argparse
from typing import TypeVar

from humanverse.config_base import Section
from humanverse.train.common.config import load_config

S = TypeVar("S", bound=Section)


def add_trainer_arguments(parser: argparse.ArgumentParser, presets: str) -> argparse.ArgumentParser:
    parser.add_argument("--data", required=True, nargs="+", help="shard glob(s), brace patterns or URLs")
    parser.add_argument("--output", required=True, help="run directory (checkpoints, logs, run.json)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help=f"bundled preset: {presets}")
    source.add_argument("--config", help="YAML config file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set loop.checkpointing_steps=500 (repeatable)")
    parser.add_argument("--resume", help="'latest' (no-op on a fresh run) or a checkpoint folder")
    parser.add_argument("--max-steps", type=int, help="shorthand for --set loop.max_steps=N")
    parser.add_argument("--checkpoints-total-limit", type=int,
                        help="shorthand for --set loop.checkpoints_total_limit=N")
    return parser


def config_from_args(cls: type[S], args: argparse.Namespace) -> S:
    overrides = list(args.overrides)
    if args.max_steps is not None:
        overrides.append(f"loop.max_steps={args.max_steps}")
    if args.checkpoints_total_limit is not None:
        overrides.append(f"loop.checkpoints_total_limit={args.checkpoints_total_limit}")
    return load_config(cls, preset=args.preset, file=args.config, overrides=overrides)
