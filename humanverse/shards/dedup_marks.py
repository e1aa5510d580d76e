"""Where a run's dedup marks live and how a reader gets the keys to skip.

`humanverse dedup OUT` writes OUT/dedup/duplicates.parquet (atomically): one row per sample marked as a
duplicate, with the kept sample it duplicates. Shards are never rewritten, so every reader skips those keys
itself; readers of shards under OUT/shards/ find the marks next to them, or are given the file.
"""

from __future__ import annotations

from collections.abc import Iterable

import fsspec
import pyarrow.parquet as pq

from humanverse.shards import atomic
from humanverse.shards.untrusted import read_json_file

DEDUP_DIR = "dedup"
MARKS_FILE = "duplicates.parquet"
MANIFEST_FILE = "manifest.json"


def dedup_dir(output: str) -> str:
    return atomic.join(output, DEDUP_DIR)


def marks_path(output: str) -> str:
    return atomic.join(output, DEDUP_DIR, MARKS_FILE)


def run_root_of_shard(shard_url: str) -> str | None:
    """OUT for OUT/shards/{task_id}.tar; None when the shard is not laid out as a run."""
    head, _, _name = shard_url.rstrip("/").rpartition("/")
    parent, _, folder = head.rpartition("/")
    return parent if folder == "shards" and parent else None


def find_marks(shard_urls: Iterable[str]) -> list[str]:
    """The marks files of the runs these shards belong to (those that have been deduplicated)."""
    found = []
    for root in sorted({r for r in map(run_root_of_shard, shard_urls) if r is not None}):
        fs, path = fsspec.core.url_to_fs(marks_path(root))
        if fs.exists(path):
            found.append(marks_path(root))
    return found


def load_duplicate_keys(shard_urls: Iterable[str] | None = None, marks: str | Iterable[str] | None = None
                        ) -> frozenset[str]:
    """Keys to skip: from the given marks file(s), else from the marks found beside the shards. With shard
    URLs given, only the marks of those shards are kept (a reader of a few shards holds a few keys)."""
    shard_urls = list(shard_urls or [])
    files = [marks] if isinstance(marks, str) else list(marks) if marks is not None else find_marks(shard_urls)
    tasks = {u.rstrip("/").rpartition("/")[2].removesuffix(".tar") for u in shard_urls}
    keys: set[str] = set()
    for url in files:
        with fsspec.open(url, "rb") as f:
            table = pq.read_table(f, columns=["key", "task_id"])
        for key, task in zip(table.column("key").to_pylist(), table.column("task_id").to_pylist()):
            if not tasks or task in tasks:
                keys.add(key)
    return frozenset(keys)


def read_manifest(output: str) -> dict | None:
    """OUT/dedup/manifest.json (written last by the pass), or None for a run never deduplicated; a manifest
    that is not a bounded json object raises untrusted.BadSample."""
    return read_json_file(atomic.join(output, DEDUP_DIR, MANIFEST_FILE))
