"""The one error a stage raises when its weight files are not there, and running every check at once.

In core (not models/) because the Stage base checks the files a stage declares, and the contract imports
nothing else of humanverse; models/files.py raises the same error when it locates weights.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


class MissingModelFiles(FileNotFoundError):
    pass


def check_all(checks: Iterable[Callable[[], object]]) -> None:
    """Run every check; raise one MissingModelFiles naming all that is missing, so it is fixed in one go."""
    missing = []
    for check in checks:
        try:
            check()
        except MissingModelFiles as exc:
            missing.append(str(exc))
    if missing:
        raise MissingModelFiles("\n".join(missing))
