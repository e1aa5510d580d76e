"""`humanverse train <method>`: one command-line builder for every training method.

    humanverse train lsd --data 'shards/*.tar' --output runs/lsd (--preset lsd | --config my.yaml) \
        [--set optim.learning_rate=2e-5 ...] [--resume latest|PATH] [--max-steps N] [--checkpoints-total-limit K]

Every method takes the same flags, parsed here, so methods cannot drift apart in how data, output,
presets, overrides and resume are spelled. A new method adds one row to METHODS (its config class and its
train function, both in its own folder). Run under `accelerate launch` (or torchrun) for multi-GPU /
multi-node; the same command resumes a killed run with `--resume latest`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from dataclasses import dataclass

from humanverse.config_base import S
from humanverse.train.common.config import load_config
from humanverse.train.common.overwrite_guard import RunDirInUse, check_run_dir


@dataclass(frozen=True)
class Method:
    name: str
    help: str
    presets: str
    config: str
    """module:Class of the method's config (imported only when the method runs: torch-free parsing)."""
    train: str
    """module:function(cfg, shards, run_dir, resume) -> LoopResult."""


METHODS = [
    Method("lsd", "train stage 1 (Latent Structural Diffusion)", "lsd (SD-2-base, 512²) or lsd_tiny (CPU smoke runs)",
           "humanverse.train.lsd.config:LSDConfig", "humanverse.train.lsd.train:train_lsd"),
    Method("refiner", "train stage 2 (Structure-Guided Refiner)",
           "refiner (SDXL base, 1024²) or refiner_tiny (CPU smoke runs)",
           "humanverse.train.refiner.config:RefinerConfig", "humanverse.train.refiner.train:train_refiner"),
    Method("hand", "train the hand generator (Giving a Hand, stage 1: hand image + mask from a hand skeleton)",
           "hand (SD-2-base, 256² hand crops) or hand_tiny (CPU smoke runs)",
           "humanverse.train.hand.config:HandConfig", "humanverse.train.hand.train:train_hand"),
    Method("hand-body", "train the body outpainter (Giving a Hand, stage 2: inpainting model + skeleton ControlNet)",
           "hand_body (SD-2-inpainting, 512²) or hand_body_tiny (CPU smoke runs)",
           "humanverse.train.hand_body.config:HandBodyConfig", "humanverse.train.hand_body.train:train_hand_body"),
]


def add_trainer_arguments(parser: argparse.ArgumentParser, presets: str) -> argparse.ArgumentParser:
    parser.add_argument("--data", required=True, nargs="+", help="shard glob(s), brace patterns or URLs")
    parser.add_argument("--output", required=True, help="run directory (checkpoints, logs, run.json)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help=f"bundled preset: {presets}")
    source.add_argument("--config", help="YAML config file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set loop.checkpointing_steps=500 (repeatable)")
    parser.add_argument("--resume", help="'latest' (no-op on a fresh run) or a checkpoint folder")
    parser.add_argument("--overwrite", action="store_true",
                        help="start over in an --output that already holds checkpoints (they are deleted)")
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


def add_train_parsers(subparsers) -> None:
    """Register every method under the `train` subcommand's subparsers."""
    for method in METHODS:
        parser = subparsers.add_parser(method.name, help=method.help, description=__doc__,
                                       formatter_class=argparse.RawDescriptionHelpFormatter)
        add_trainer_arguments(parser, presets=method.presets)
        parser.set_defaults(handler=run, method=method)


def _load(ref: str):
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def run(args: argparse.Namespace) -> int:
    method: Method = args.method
    cfg = config_from_args(_load(method.config), args)
    removed = check_run_dir(args.output, args.resume, getattr(args, "overwrite", False))
    if removed:
        logging.getLogger(__name__).warning("--overwrite: removed %d checkpoint(s) of the earlier run in %s",
                                            len(removed), args.output)
    result = _load(method.train)(cfg, args.data, args.output, resume=args.resume)
    print(f"done: step {result.step}, {result.steps_run} steps at {result.steps_per_second:.3f} steps/s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m humanverse.train.common.cli <method> ...`: the same as `humanverse train <method> ...`."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="humanverse train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_train_parsers(parser.add_subparsers(dest="model", required=True))
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except RunDirInUse as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
