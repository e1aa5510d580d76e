"""Reading a file named by an input (an image folder's entry, its caption) without trusting what it is.

A folder handed to curation may hold a symlink to /dev/zero, a FIFO, a device or a 1.5 GB file under an
image name. A plain read of those never ends, blocks forever, or fills memory. So a local file is opened
without blocking (a FIFO with no writer opens at once), checked with fstat on the open descriptor (no race
between check and read: symlinks are followed, and what they point at must be a regular file), and read
up to a cap. Remote files (any other fsspec URL) are object-store objects: read up to the cap as well.
"""

from __future__ import annotations

import os
import stat

import fsspec

NOT_A_REGULAR_FILE = "not_a_regular_file"
TOO_LARGE = "too_large"
UNREADABLE = "unreadable"


class FileRefused(Exception):
    """A file that was not read, with the reason code that goes into the sample's row."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason, detail)
        self.reason = reason


def read_capped(path: str, max_bytes: int, truncate: bool = False) -> bytes:
    """The file's bytes. Raises FileRefused: not_a_regular_file, too_large (unless `truncate`, which returns
    the first max_bytes instead) or unreadable."""
    fs, local = fsspec.core.url_to_fs(path)
    protocols = fs.protocol if isinstance(fs.protocol, (list, tuple)) else (fs.protocol,)
    if "file" in protocols or "local" in protocols:
        return _read_local(local, max_bytes, truncate)
    try:
        with fs.open(local, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise FileRefused(UNREADABLE, str(error)) from error
    return _capped(data, max_bytes, truncate)


def _read_local(path: str, max_bytes: int, truncate: bool) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise FileRefused(UNREADABLE, str(error)) from error
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(NOT_A_REGULAR_FILE, stat.filemode(info.st_mode))
        if info.st_size > max_bytes and not truncate:
            raise FileRefused(TOO_LARGE, f"{info.st_size} bytes")
        os.set_blocking(fd, True)
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as error:
        raise FileRefused(UNREADABLE, str(error)) from error
    finally:
        os.close(fd)
    return _capped(b"".join(chunks), max_bytes, truncate)


def _capped(data: bytes, max_bytes: int, truncate: bool) -> bytes:
    """The size in fstat can lie (a file growing while read): the byte count read decides."""
    if len(data) > max_bytes:
        if not truncate:
            raise FileRefused(TOO_LARGE, f"over {max_bytes} bytes")
        return data[:max_bytes]
    return data
