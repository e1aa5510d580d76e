"""`humanverse train refiner`: the stage-2 trainer's command line.

    humanverse train refiner --data 'shards/*.tar' --output runs/refiner (--preset refiner | --config my.yaml) \
        [--set objective.condition_dropout=0.3 ...] [--resume latest|PATH] [--max-steps N] [--checkpoints-total-limit K]

The same flags as `train lsd` (both parse through train_args.py). Run it under `accelerate launch` (or
torchrun) for multi-GPU / multi-node; the same command resumes a killed run with `--resume latest`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from humanverse.train.common.cli import add_trainer_arguments, config_from_args


def _add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_trainer_arguments(parser, presets="refiner (SDXL base, 1024²) or refiner_tiny (CPU smoke runs)")
    parser.set_defaults(handler=run)
    return parser


def add_train_refiner_parser(subparsers) -> argparse.ArgumentParser:
    """Register `refiner` under the `train` subcommand's subparsers."""
    return _add_arguments(subparsers.add_parser("refiner", help="train stage 2 (Structure-Guided Refiner)",
                                                description=__doc__,
                                                formatter_class=argparse.RawDescriptionHelpFormatter))


def run(args: argparse.Namespace) -> int:
    from humanverse.train.refiner.config import RefinerConfig
    from humanverse.train.refiner.train import train_refiner

    cfg = config_from_args(RefinerConfig, args)
    result = train_refiner(cfg, args.data, args.output, resume=args.resume)
    print(f"done: step {result.step}, {result.steps_run} steps at {result.steps_per_second:.3f} steps/s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = _add_arguments(argparse.ArgumentParser(prog="humanverse train refiner", description=__doc__,
                                                    formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
