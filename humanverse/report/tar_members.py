"""Members of chosen samples from a shard's tar, streamed once (works on object stores too), under a cap."""

from __future__ import annotations

import tarfile

import fsspec

MAX_MEMBER_BYTES = 64 * 1024 * 1024
"""Shard members larger than this are not read into the report (a shard is data too)."""


def tar_members(tar_url: str, keys: set[str]):
    """(key, {suffix: bytes}) for the wanted keys, streaming the tar once; members over MAX_MEMBER_BYTES by
    their header are skipped unread."""
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
            if key in keys and member.size <= MAX_MEMBER_BYTES:
                handle = tar.extractfile(member)
                files[suffix] = handle.read(member.size) if handle else b""
        if current in keys:
            yield current, files
