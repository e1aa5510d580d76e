"""The one way a command turns path patterns into a sorted list of files: brace ranges, then globs.

`shards/{00000..00099}.tar` and `{a,b}.parquet` expand first (braceexpand, webdataset's own syntax), then
`*`, `?` and `[...]` glob through fsspec on any filesystem (local, s3://, gs://, ...), keeping the
protocol on each match. Sorted and de-duplicated, so task numbering is stable across runs.
"""

from __future__ import annotations

from collections.abc import Iterable

import fsspec
from braceexpand import braceexpand

GLOB_CHARS = "*?["


def expand(patterns: str | Iterable[str], what: str = "input", must_exist: bool = True) -> list[str]:
    """Every file the patterns name. A pattern that matches nothing is an error naming it; with must_exist,
    so is a plain (glob-free) path that is not there. Without it, plain paths and URLs pass unchecked
    (e.g. shard URLs a reader streams, where a HEAD per shard would cost more than it tells)."""
    found: list[str] = []
    for pattern in [patterns] if isinstance(patterns, str) else list(patterns):
        matches: list[str] = []
        missing: list[str] = []
        for item in braceexpand(pattern):
            fs, _ = fsspec.core.url_to_fs(item)
            if any(c in item for c in GLOB_CHARS):
                matches += [_with_protocol(fs, m) for m in fs.glob(item)]
            elif not must_exist or fs.exists(item):
                matches.append(item)
            else:
                missing.append(item)
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise FileNotFoundError(f"{what} {pattern!r}: not found: {shown}")
        if not matches:
            raise FileNotFoundError(f"{what} {pattern!r} matched nothing")
        found += matches
    return sorted(dict.fromkeys(found))


def _with_protocol(fs, match: str) -> str:
    protocol = fs.protocol[0] if isinstance(fs.protocol, (list, tuple)) else fs.protocol
    return match if protocol in ("file", "local") or "://" in match else f"{protocol}://{match}"
