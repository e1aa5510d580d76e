"""sha256 of weight files for run.json, hashed once per file, not once per run.

Hashing is slow (the humanverse preset's weights are ~6 GB: 16 s on the benchmark machine before any work
starts), and every run, resume and benchmark asks again. Digests are kept in memory and, for files of at least
PERSIST_MIN_BYTES, in a small JSON store ($HUMANVERSE_CACHE or ~/.cache/humanverse/weights-sha256.json),
keyed by (path, size, mtime): a replaced or touched file is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

from humanverse.shards import atomic

log = logging.getLogger(__name__)

PERSIST_MIN_BYTES = 16 * 2**20  # smaller files hash in milliseconds
_CACHE: dict[str, str] = {}


def store_path() -> Path:
    root = os.environ.get("HUMANVERSE_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "humanverse") / "weights-sha256.json"


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file; from memory or the store when the file's path, size and mtime are unchanged."""
    p = Path(path).resolve()
    st = p.stat()
    key = f"{p}|{st.st_size}|{st.st_mtime_ns}"
    if key not in _CACHE:
        persist = st.st_size >= PERSIST_MIN_BYTES
        stored = _read_store() if persist else {}
        if key in stored:
            _CACHE[key] = stored[key]
        else:
            _CACHE[key] = _hash(p)
            if persist:
                _remember(key, _CACHE[key])
    return _CACHE[key]


def _hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


def _read_store() -> dict[str, str]:
    try:
        data = json.loads(store_path().read_text())
    except (OSError, ValueError):  # absent, unreadable or torn: hash again
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} if isinstance(data, dict) else {}


def _remember(key: str, digest: str) -> None:
    """Add one digest; entries of files that are gone are dropped. A store we cannot write costs only time."""
    stored = {k: v for k, v in _read_store().items() if Path(k.split("|", 1)[0]).exists()}
    stored[key] = digest
    try:
        store_path().parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(str(store_path()), json.dumps(stored, indent=0, sort_keys=True).encode())
    except OSError as exc:
        log.debug("weights digest store not written: %s", exc)
