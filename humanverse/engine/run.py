"""Run curate for a command (`humanverse curate`, `humanverse demo`): print the summary, return the exit code."""

from __future__ import annotations

from rich.console import Console

from humanverse.console import make_console

EXIT_OK, EXIT_FAILED_TASKS, EXIT_USAGE, EXIT_STALLED = 0, 1, 2, 3
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as a shell reports a command stopped by Ctrl-C."""


def run_curate(cfg, inputs, output, address, force, allow_private_urls, console: Console, retry_failed=False,
                engine: str = "ray") -> int:
    from humanverse.engine.curate import curate
    from humanverse.engine.summary import print_summary

    result = curate(cfg, inputs, output, address=address, force=force,
                    allow_private_urls=allow_private_urls, console=console, retry_failed=retry_failed, engine=engine)
    print_summary(result, cfg.demo, make_console())
    return EXIT_OK if result.ok else EXIT_FAILED_TASKS
