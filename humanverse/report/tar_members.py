"""Members of chosen samples from a shard's tar, streamed once (works on object stores too)."""

from __future__ import annotations

import tarfile

import fsspec


def tar_members(tar_url: str, keys: set[str]):
    """(key, {suffix: bytes}) for the wanted keys, streaming the tar once (works on object stores too)."""
    current, files = None, {}
    with fsspec.open(tar_url, "rb") as raw, tarfile.open(fileobj=raw, mode="r|") as tar:
        for member in tar:
            if not member.isfile() or "." not in member.name:
                continue
            key, suffix = member.name.split(".", 1)
            if key != current:
                if current in keys:
                    yield current, files
                current, files = key, {}
            if key in keys:
                handle = tar.extractfile(member)
                files[suffix] = handle.read() if handle else b""
        if current in keys:
            yield current, files
