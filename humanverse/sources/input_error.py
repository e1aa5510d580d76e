"""The error for an input that cannot be planned: a file the run could not turn into rows at all.

Raised while planning, before anything is written under the output, so fixing the input (or the config)
and running the same command again is never refused as a changed run. A ValueError, so the CLI reports it
as `error: <message>` with exit status 2. The message names the file and says what to do.
"""

from __future__ import annotations

import tarfile
import zlib


class InputError(ValueError):
    """A malformed or unusable input, found at planning."""


UNREADABLE_INPUT = (OSError, ValueError, EOFError, RecursionError, tarfile.TarError, zlib.error)
"""What readers raise on a malformed file (pyarrow's errors are ValueError/OSError subclasses, json's
ValueError): turned into an InputError naming the file where an input is planned."""
