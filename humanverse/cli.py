"""One entry point: humanverse curate | demo | train | sample | eval | export | inspect | dedup | models."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from humanverse import config as config_mod
from humanverse import run_log
from humanverse.console import make_console
from humanverse.sources.inputs import FORMATS

from humanverse.engine.run import EXIT_INTERRUPTED, EXIT_OK, EXIT_STALLED, EXIT_USAGE, run_curate


def add_config_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--preset", help=f"built-in config: {', '.join(config_mod.preset_names())}")
    g.add_argument("--config", help="a YAML config file (unknown keys are errors)")
    p.add_argument("--set", action="append", default=[], metavar="section.key=value", help="override one value")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="humanverse", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="show third-party messages and Ray worker logs here (else: OUT/logs/ of the run)")
    sub = parser.add_subparsers(dest="command", required=True)

    c = sub.add_parser("curate", help="curate image metadata or tars into annotated WebDataset shards")
    c.add_argument("--input", action="append", required=True, metavar="PATH_OR_GLOB", help="repeatable; any fsspec URL")
    c.add_argument("--output", required=True, metavar="OUT", help="output folder (any fsspec URL)")
    add_config_args(c)
    c.add_argument("--input-format", choices=FORMATS, default=None, help="default: the config's input.format (auto)")
    c.add_argument("--address", default=None, help="Ray cluster address (default: an embedded local Ray)")
    c.add_argument("--engine", choices=("ray", "local"), default="ray",
                   help="ray (default) or local: this process only, no Ray to start (one machine: faster on "
                        "fetch-heavy runs and small ones, a third of the memory; no worker restarts)")
    c.add_argument("--force", action="store_true", help="resume even though the config or the inputs changed")
    c.add_argument("--allow-private-urls", action="store_true", help="allow loopback/private addresses (tests, demos)")
    c.add_argument("--retry-failed", action="store_true",
                   help="re-attempt only rows that failed transiently (timeouts, 5xx) in complete shards")
    c.set_defaults(func=cmd_curate)

    d = sub.add_parser("demo", help="serve demo images on 127.0.0.1 and curate them with the demo preset")
    d.add_argument("--output", default="demo-out")
    d.add_argument("--images", action="append", default=[], help="folder(s) of images to serve (default: the "
                   "photos that ship inside the ultralytics package)")
    d.add_argument("--set", action="append", default=[], metavar="section.key=value")
    d.add_argument("--force", action="store_true")
    d.set_defaults(func=cmd_demo)

    t = sub.add_parser("train", help="train the bundled two-stage model on curated shards")
    train_sub = t.add_subparsers(dest="model", required=True)
    from humanverse.report.inspect_cli import add_inspect_parser
    from humanverse.train.common.cli import add_train_parsers
    from humanverse.train.sampling.cli import add_sample_parser

    add_train_parsers(train_sub)
    t.set_defaults(func=cmd_train)
    add_sample_parser(sub)
    add_inspect_parser(sub)
    from humanverse.dedup.cli import add_dedup_parser

    add_dedup_parser(sub).set_defaults(func=cmd_dedup)
    from humanverse.eval.cli import add_eval_parser

    add_eval_parser(sub)
    from humanverse.train.export.cli import add_export_parser

    add_export_parser(sub)

    from humanverse.model_provenance import preset_choices, preset_needs
    from humanverse.models.cli import add_models_parser

    add_models_parser(sub, needs=preset_needs, choices=preset_choices)
    return parser


def cmd_curate(args) -> int:
    overrides = list(args.set)
    if args.input_format:
        overrides.append(f"input.format={args.input_format}")
    cfg = config_mod.resolve(args.preset, args.config, overrides)
    if args.engine == "local" and args.address:
        raise ValueError("--address names a Ray cluster; it cannot be combined with --engine local")
    with run_log.third_party_to_log(args.output, "curate", args.verbose) as log:
        console = make_console(stderr=True)
        code = run_curate(cfg, args.input, args.output, args.address, args.force, args.allow_private_urls, console,
                          args.retry_failed, args.engine)
    run_log.say_where(log)
    return code


def cmd_demo(args) -> int:
    from humanverse.demo import run_demo

    with run_log.third_party_to_log(args.output, "demo", args.verbose) as log:
        code = run_demo(args.output, args.images, args.set, args.force)
    run_log.say_where(log)
    return code


def cmd_dedup(args) -> int:
    from humanverse.dedup.cli import resolve_config, summary_table
    from humanverse.engine.dedup_ray import dedup_on_ray

    cfg = resolve_config(args.method, args.threshold, args.set)
    result, where = dedup_on_ray(args.output, cfg, address=args.address, force=args.force,
                                 methods_explicit=args.method is not None)
    make_console(stderr=True).print(f"dedup on {where}")
    make_console().print(summary_table(result))
    return EXIT_OK


def cmd_train(args) -> int:
    return args.handler(args)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # Trainers report steps, checkpoints and resumes at INFO; curation reports through its own console.
    chatty = args.verbose or args.command in ("train", "sample", "eval")
    logging.basicConfig(level=logging.INFO if chatty else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from humanverse.models.files import MissingModelFiles
    from humanverse.engine.stall_guard import StallError
    from humanverse.shards.run_manifest import ResumeRefused

    try:
        return args.func(args)
    except (config_mod.ConfigError, ResumeRefused, MissingModelFiles, FileNotFoundError, ValueError) as exc:
        make_console(stderr=True).print(f"[red]error:[/red] {exc}", highlight=False)
        return EXIT_USAGE
    except KeyboardInterrupt:
        # Complete shards and checkpoints are published atomically; nothing half-written is left under a final
        # name, so the same command resumes (a trainer: with --resume latest).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C while Ray shuts down: no traceback
        _shutdown_ray()
        again = "rerun with --resume latest to continue" if args.command == "train" else \
            "rerun the same command to resume"
        print(f"\ninterrupted: {again}", file=sys.stderr, flush=True)
        if args.command in ("curate", "demo"):
            # Now, not after the downloads in flight: Python's exit would join the download threads (a minute,
            # up to total_timeout_s). Nothing is left to flush: the lock, the log and every file are closed.
            logging.shutdown()
            sys.stdout.flush()
            os._exit(EXIT_INTERRUPTED)
        signal.signal(signal.SIGINT, previous)  # called as a function (tests, notebooks): Ctrl-C works again
        return EXIT_INTERRUPTED
    except StallError as exc:
        make_console(stderr=True).print(f"[red]stalled:[/red] {exc}. Complete shards are kept; rerun to resume.",
                                        highlight=False)
        return EXIT_STALLED


def _shutdown_ray() -> None:
    """Stop an embedded Ray before exiting, quietly (at exit it would race threads that still use it)."""
    ray = sys.modules.get("ray")
    if ray is None or not ray.is_initialized():
        return
    # Ray Data's executor thread is still blocked in a ray.get: once Ray is down it would start a new local
    # Ray (auto-connect) and log the failures of its metrics calls. Neither is news to a user who pressed Ctrl-C.
    auto_init = sys.modules.get("ray._private.auto_init_hook")
    if auto_init is not None:
        auto_init.enable_auto_connect = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    threading.excepthook = lambda args: None
    try:
        ray.shutdown()
    except Exception:  # noqa: BLE001 - exiting anyway
        pass


if __name__ == "__main__":
    sys.exit(main())
