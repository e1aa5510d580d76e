"""Publishing a finished file under its final name in one step, so a crash never leaves a half file there.

Local paths: write a hidden temporary file beside the target, fsync, then os.replace (atomic on POSIX).
Object stores (any other fsspec URL): a single PUT of a finished local file is atomic per object, and
the completion marker is always published last.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import fsspec

TMP_TAG = ".tmp-"


def is_local(url: str) -> bool:
    fs, _ = fsspec.core.url_to_fs(url)
    return "file" in (fs.protocol if isinstance(fs.protocol, (list, tuple)) else [fs.protocol])


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


@contextmanager
def staged_file(final_url: str):
    """Yield a local path to write; on clean exit it is published as final_url, on error it is removed."""
    if is_local(final_url):
        final = Path(fsspec.core.url_to_fs(final_url)[1])
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{final.name}{TMP_TAG}{uuid.uuid4().hex[:8]}"
    else:
        fd, name = tempfile.mkstemp(prefix="humanverse-", suffix=".part")
        os.close(fd)
        tmp = Path(name)
    try:
        yield tmp
        publish(tmp, final_url)
    finally:
        tmp.unlink(missing_ok=True)


def publish(local_tmp: Path, final_url: str) -> None:
    if is_local(final_url):
        final = Path(fsspec.core.url_to_fs(final_url)[1])
        with open(local_tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(local_tmp, final)
        fsync_dir(final.parent)
    else:
        fs, path = fsspec.core.url_to_fs(final_url)
        fs.put_file(str(local_tmp), path)


def write_bytes(final_url: str, data: bytes) -> None:
    with staged_file(final_url) as tmp:
        tmp.write_bytes(data)


def remove_stale_temporaries(directory_url: str) -> int:
    """Delete temporaries a killed writer left behind (local only; object stores have none)."""
    if not is_local(directory_url):
        return 0
    root = Path(fsspec.core.url_to_fs(directory_url)[1])
    if not root.exists():
        return 0
    stale = [p for p in root.iterdir() if TMP_TAG in p.name and p.name.startswith(".")]
    for p in stale:
        p.unlink(missing_ok=True)
    return len(stale)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
