"""What an input file was when a run used it: a digest of the store's own description of it (size and
modification time; on object stores also ETag/generation/checksums), or, for a folder, of every file under
it. Resume keeps a task only when its input's identity is the one the shards were made from.

Not a hash of the bytes: reading every input again on each rerun would cost as much as the run's first
read (a folder of tars, a bucket of parquets). An edit in place that keeps both size and mtime is not seen
(as with make or rsync's quick check).
"""

from __future__ import annotations

import hashlib
import json
from concurrent.futures import ThreadPoolExecutor

import fsspec

IDENTITY_FIELDS = ("size", "mtime", "ETag", "etag", "LastModified", "last_modified", "updated", "generation",
                   "md5Hash", "crc32c", "VersionId", "version_id", "checksum")
"""The fields of fsspec's `info()` that change when an object's content does (local, s3, gcs, http...)."""

THREADS = 8
"""An info call is one round trip on an object store: I/O bound, so threads (as in planner.PLAN_THREADS)."""


def _fields(info: dict) -> dict:
    return {k: str(info[k]) for k in IDENTITY_FIELDS if info.get(k) is not None}


def identity(path: str) -> str:
    fs, root = fsspec.core.url_to_fs(path)
    info = fs.info(root)
    if info.get("type") == "directory":
        files = fs.find(root, detail=True)
        described = [(name, _fields(entry)) for name, entry in sorted(files.items())]
    else:
        described = _fields(info)
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:32]


def identities(paths: list[str]) -> list[str]:
    """identity() of every path, in order, a few at once."""
    if not paths:
        return []
    with ThreadPoolExecutor(max_workers=min(THREADS, len(paths))) as pool:
        return list(pool.map(identity, paths))
