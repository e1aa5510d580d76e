"""Our lines on the terminal, everyone else's in OUT/logs/: a curate run's per-run log file.

Libraries we call write chatter that reads like errors: absl/TFLite `W0000` lines and Ray's core worker
(C++, straight to file descriptor 2, where Python's logging cannot catch them), deprecation warnings,
model loaders' progress bars. So for the run, descriptor 2 itself is pointed at the log file, and the
terminal is reached only through a duplicate of the old descriptor, which our console (console.py) and
our own loggers' errors, and nothing else, write to. `-v` leaves everything on the terminal, as before.
The log is written to a local file and moved (or uploaded: object stores) into OUT/logs/ when the run ends.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import fsspec

from humanverse import console
from humanverse.shards import atomic

VERBOSE = False
"""Set by the command line's -v: third-party output stays on the terminal (and Ray forwards its workers')."""


class _Ours(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == "humanverse" or record.name.startswith("humanverse.")


class RunLog:
    """Where the log is: a local file while the command runs, under OUT/logs/ once it is over (when the
    command made OUT; one refused before any work keeps no folder of its own, and its log stays local)."""

    def __init__(self, output: str, command: str):
        self.name = f"{command}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
        self.output = output
        self.local = Path(tempfile.gettempdir()) / f"humanverse-{self.name}"
        self.where = str(self.local)

    def publish(self) -> None:
        if not self.local.stat().st_size:
            self.local.unlink()
            return
        fs, out = fsspec.core.url_to_fs(self.output)
        try:
            if not fs.exists(out):
                return
            fs, path = fsspec.core.url_to_fs(atomic.join(self.output, "logs", self.name))
            fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
            fs.put_file(str(self.local), path)
            self.local.unlink()
            self.where = atomic.join(self.output, "logs", self.name)
        except OSError:
            pass  # the local copy stays; the run's result does not depend on its log


@contextmanager
def third_party_to_log(output: str, command: str, verbose: bool = False) -> Iterator[RunLog | None]:
    """Yields the RunLog (None with verbose). Descriptor 2 and sys.stderr are restored on the way out, so
    a traceback of our own that ends the command is printed on the terminal."""
    global VERBOSE
    VERBOSE = verbose
    if verbose:
        yield None
        return
    run_log = RunLog(output, command)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fd = os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    saved_stderr = sys.stderr
    try:
        with open(run_log.local, "ab", buffering=0) as log:
            os.dup2(log.fileno(), 2)
            sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
            ours = logging.StreamHandler(terminal)
            ours.setLevel(logging.ERROR)  # warnings (a sample's traceback, a retried batch) are for the log
            ours.addFilter(_Ours())
            logging.getLogger().addHandler(ours)
            console.set_terminal(terminal)
            try:
                yield run_log
            finally:
                console.set_terminal(None)
                logging.getLogger().removeHandler(ours)
                sys.stderr.flush()
                os.dup2(saved_fd, 2)
                sys.stderr = saved_stderr
    finally:
        os.close(saved_fd)
        terminal.close()
        run_log.publish()


def say_where(run_log: RunLog | None) -> None:
    """One line naming the log, when something was written to it."""
    if run_log is not None and (run_log.where != str(run_log.local) or run_log.local.exists()):
        console.make_console(stderr=True).print(f"[dim]third-party messages: {run_log.where} (-v shows them here)"
                                                "[/dim]", highlight=False)
