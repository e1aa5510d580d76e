"""Our lines on the terminal, everyone else's in OUT/logs/: a curate run's per-run log file.

Libraries we call write chatter that reads like errors: absl/TFLite `W0000` lines and Ray's core worker
(C++, straight to file descriptor 2, where Python's logging cannot catch them), deprecation warnings,
model loaders' progress bars. So for the run, descriptor 2 itself is pointed at the log file, and the
terminal is reached only through a duplicate of the old descriptor, which our console (console.py) and
our own loggers' errors, and nothing else, write to. `-v` leaves everything on the terminal, as before.
An output on an object store gets the log uploaded when the run ends (it is written locally meanwhile).
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


@contextmanager
def third_party_to_log(output: str, command: str, verbose: bool = False) -> Iterator[str | None]:
    """Yields the log's URL (None with verbose). Descriptor 2 and sys.stderr are restored on the way out,
    so a traceback of our own that ends the command is printed on the terminal."""
    global VERBOSE
    VERBOSE = verbose
    if verbose:
        yield None
        return
    name = f"{command}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    final = atomic.join(output, "logs", name)
    local = atomic.is_local(final)
    path = Path(fsspec.core.url_to_fs(final)[1]) if local else Path(tempfile.gettempdir()) / f"humanverse-{name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_fd = os.dup(2)
    terminal = os.fdopen(os.dup(2), "w", buffering=1, encoding="utf-8", errors="replace")
    saved_stderr = sys.stderr
    with open(path, "ab", buffering=0) as log:
        os.dup2(log.fileno(), 2)
        sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)
        ours = logging.StreamHandler(terminal)
        ours.setLevel(logging.ERROR)  # warnings (a sample's traceback, a retried batch) are for the log
        ours.addFilter(_Ours())
        logging.getLogger().addHandler(ours)
        console.set_terminal(terminal)
        try:
            yield final
        finally:
            console.set_terminal(None)
            logging.getLogger().removeHandler(ours)
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            sys.stderr = saved_stderr
            terminal.close()
    if not local:
        try:
            fs, remote = fsspec.core.url_to_fs(final)
            fs.put_file(str(path), remote)
            path.unlink()
        except OSError:
            pass  # the local copy stays; the run's result does not depend on its log


def say_where(log_url: str | None) -> None:
    """One line naming the log, when something was written to it."""
    if log_url is None:
        return
    fs, path = fsspec.core.url_to_fs(log_url)
    try:
        size = fs.size(path)
    except (OSError, FileNotFoundError):
        return
    if size:
        console.make_console(stderr=True).print(f"[dim]third-party messages: {log_url} (-v shows them here)[/dim]",
                                                highlight=False)
