"""Reading files out of a published zip or an unpacked folder without extracting anything to disk.

Published weights are untrusted: a member name is only ever matched, never joined onto a local path, and every
read is capped in bytes, so a hostile archive can neither write outside a folder nor exhaust memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

MAX_MEMBER_BYTES = 2 << 30


class Members:
    """The files of a zip archive or a folder, addressed by their relative POSIX path."""

    def __init__(self, source: str | Path, max_bytes: int = MAX_MEMBER_BYTES):
        self.source = Path(source)
        self.max_bytes = max_bytes
        if self.source.is_dir():
            self._zip = None
            self.names = sorted(p.relative_to(self.source).as_posix() for p in self.source.rglob("*") if p.is_file())
        elif zipfile.is_zipfile(self.source):
            self._zip = zipfile.ZipFile(self.source)
            self.names = sorted(i.filename for i in self._zip.infolist() if not i.is_dir())
        else:
            raise ValueError(f"{self.source}: neither a folder nor a zip archive")

    def find(self, basename: str) -> str:
        """The one member named basename (at any depth); several or none is an error."""
        hits = [n for n in self.names if PurePosixPath(n).name == basename]
        if len(hits) != 1:
            raise ValueError(f"{self.source}: expected one {basename}, found {len(hits)}")
        return hits[0]

    def read(self, name: str) -> bytes:
        if name not in self.names:
            raise KeyError(f"{self.source}: no member {name!r}")
        if self._zip is not None:
            info = self._zip.getinfo(name)
            if info.file_size > self.max_bytes:
                raise ValueError(f"{name}: {info.file_size} bytes is over the {self.max_bytes} byte cap")
            with self._zip.open(info) as f:
                data = f.read(self.max_bytes + 1)
        else:
            path = self.source / name
            if path.stat().st_size > self.max_bytes:
                raise ValueError(f"{name}: {path.stat().st_size} bytes is over the {self.max_bytes} byte cap")
            data = path.read_bytes()
        if len(data) > self.max_bytes:
            raise ValueError(f"{name}: over the {self.max_bytes} byte cap")
        return data

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Members:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
