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

from humanverse.train.config import load_config


def _add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--data", required=True, nargs="+", help="shard glob(s), brace patterns or URLs")
    parser.add_argument("--output", required=True, help="run directory (checkpoints, logs, run.json)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--preset", help="bundled preset: lsd (SD-2-base, 512²) or lsd_tiny (CPU smoke runs)")
    source.add_argument("--config", help="YAML config file")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config value, e.g. --set loop.checkpointing_steps=500 (repeatable)")
    parser.add_argument("--resume", help="'latest' (no-op on a fresh run) or a checkpoint folder")
    parser.add_argument("--max-steps", type=int, help="shorthand for --set loop.max_steps=N")
    parser.add_argument("--checkpoints-total-limit", type=int,
                        help="shorthand for --set loop.checkpoints_total_limit=N")
    parser.set_defaults(handler=run)
    return parser


def add_train_lsd_parser(subparsers) -> argparse.ArgumentParser:
    """Register `lsd` under the `train` subcommand's subparsers."""
    return _add_arguments(subparsers.add_parser("lsd", help="train stage 1 (Latent Structural Diffusion)",
                                                description=__doc__,
                                                formatter_class=argparse.RawDescriptionHelpFormatter))


def run(args: argparse.Namespace) -> int:
    from humanverse.train.lsd_config import LSDConfig
    from humanverse.train.lsd_train import train_lsd

    overrides = list(args.overrides)
    if args.max_steps is not None:
        overrides.append(f"loop.max_steps={args.max_steps}")
    if args.checkpoints_total_limit is not None:
        overrides.append(f"loop.checkpoints_total_limit={args.checkpoints_total_limit}")
    cfg = load_config(LSDConfig, preset=args.preset, file=args.config, overrides=overrides)
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
