"""`humanverse train lsd`: the stage-1 trainer's command line.

    humanverse train lsd --data 'shards/*.tar' --output runs/lsd (--preset lsd | --config my.yaml) \
        [--set optim.learning_rate=2e-5 ...] [--resume latest|PATH] [--max-steps N] [--checkpoints-total-limit K]

Run it under `accelerate launch` (or torchrun) for multi-GPU / multi-node; the same command resumes a
killed run with `--resume latest`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from humanverse.train.common.cli import add_trainer_arguments, config_from_args


def _add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    add_trainer_arguments(parser, presets="lsd (SD-2-base, 512²) or lsd_tiny (CPU smoke runs)")
    parser.set_defaults(handler=run)
    return parser


def add_train_lsd_parser(subparsers) -> argparse.ArgumentParser:
    """Register `lsd` under the `train` subcommand's subparsers."""
    return _add_arguments(subparsers.add_parser("lsd", help="train stage 1 (Latent Structural Diffusion)",
                                                description=__doc__,
                                                formatter_class=argparse.RawDescriptionHelpFormatter))


def run(args: argparse.Namespace) -> int:
    from humanverse.train.lsd.config import LSDConfig
    from humanverse.train.lsd.train import train_lsd

    cfg = config_from_args(LSDConfig, args)
    result = train_lsd(cfg, args.data, args.output, resume=args.resume)
    print(f"done: step {result.step}, {result.steps_run} steps at {result.steps_per_second:.3f} steps/s", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = _add_arguments(argparse.ArgumentParser(prog="humanverse train lsd", description=__doc__,
                                                    formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
