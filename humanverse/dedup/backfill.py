"""Fingerprints for runs curated before they were recorded: decode the wanted samples' `{key}.jpg` from the
shard's tar (streamed once, other members skipped) exactly as a reader does, and hash those pixels.

The tar may come from others: members are read through shards/untrusted.py (names checked, capped by header
size) and decoded under the reader's own pixel limit; an unreadable member is a sample without fingerprints."""

from __future__ import annotations

from collections import Counter

from humanverse.dedup.fingerprint import fingerprints
from humanverse.shards.untrusted import BadSample, decode_array, tar_members


def fingerprints_from_tar(tar_url: str, keys: set[str], definition: str,
                          tally: Counter | None = None) -> dict[str, dict[str, str]]:
    """key -> fingerprints (dedup/fingerprint.py), the pixel digest of the run's definition."""
    out: dict[str, dict[str, str]] = {}
    for key, files in tar_members(tar_url, keys, tally=tally, suffixes={"jpg"}):
        if "jpg" not in files:
            continue
        try:
            out[key] = fingerprints(decode_array(files["jpg"], "RGB"), definition)
        except BadSample:
            continue
    return out
