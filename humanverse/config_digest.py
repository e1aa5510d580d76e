"""The digest of a typed config that decides whether a run folder may be resumed, stable when fields are added.

It hashes only the values that differ from their defaults, plus an output-format version. So a new field
with a default leaves every existing digest as it was (the field's default must reproduce what was written
before, or the version must be bumped), a changed value still changes it, and a default that changes what
gets written is announced by bumping the version (tests/test_config_digest.py pins the defaults so that a
changed one cannot slip through unnoticed).

Defaults are those of the enclosing section: a nested section is compared with the parent field's default
instance, and a section switched on where its default is null (`mask: {}`) is recorded as present with only
its own non-default values.

`legacy_digest` is the digest written by humanverse up to this change (every field, defaults included, so
any new field changed it). It is kept only so that run folders written then still resume:
`legacy_record_matches` accepts such a run.json when its digest is the legacy computation of the config it
records, and that config, read by today's code, has today's digest.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import to_jsonable_python


def non_default(section: BaseModel, defaults: BaseModel | None = None) -> dict[str, Any]:
    """The values of `section` that differ from `defaults` (by default the section class's own), nested."""
    defaults = type(section)() if defaults is None else defaults
    out: dict[str, Any] = {}
    for name in type(section).model_fields:
        value, default = getattr(section, name), getattr(defaults, name)
        if isinstance(value, BaseModel):
            same_kind = type(default) is type(value)
            inner = non_default(value, default if same_kind else None)
            if inner or not same_kind:
                out[name] = inner
        elif to_jsonable_python(value) != to_jsonable_python(default):
            out[name] = to_jsonable_python(value)
    return out


def digest(section: BaseModel, output_format: int, exclude: frozenset[str] = frozenset()) -> str:
    """sha256 of the output-format version and the non-default values, top-level fields in `exclude` left out."""
    values = {k: v for k, v in non_default(section).items() if k not in exclude}
    return _sha256({"output_format": output_format, "values": values})


def legacy_digest(dump: dict[str, Any], exclude: frozenset[str] = frozenset()) -> str:
    """The old digest: sha256 of the whole `model_dump(mode="json")`, defaults included (read-only use)."""
    return _sha256({k: v for k, v in dump.items() if k not in exclude})


def legacy_record_matches(
    section: BaseModel, record: dict[str, Any], output_format: int, exclude: frozenset[str] = frozenset()
) -> bool:
    """Whether a run.json written with the legacy digest was made with a config that has `section`'s digest.

    Accepted: the recorded digest is the legacy digest of `section` itself, or it is the legacy digest of the
    config the record stores and that config, validated by today's section class (new fields take their
    defaults), has the same digest as `section`. A record whose stored config does not hash to its digest,
    or no longer validates, is not accepted."""
    recorded = record.get("config_digest")
    if recorded == legacy_digest(section.model_dump(mode="json"), exclude):
        return True
    stored = record.get("config")
    if not isinstance(stored, dict) or recorded != legacy_digest(stored, exclude):
        return False
    try:
        written = type(section).model_validate({k: v for k, v in stored.items() if k not in exclude})
    except ValidationError:
        return False
    return digest(written, output_format, exclude) == digest(section, output_format, exclude)


def _sha256(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
