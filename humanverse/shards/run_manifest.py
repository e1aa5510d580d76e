"""OUT/run.json: what made an output (the resume decision that reads it: engine/resume.py; which tasks are
complete: engine/done_tasks.py)."""

from __future__ import annotations

import json
import platform
import time
from typing import Any

import humanverse
from humanverse.imaging.pixel_digest import CURRENT, DEFINITIONS, UNRECORDED
from humanverse.shards import atomic
from humanverse.shards.untrusted import read_json_file


class ResumeRefused(RuntimeError):
    pass


def run_json_path(output: str) -> str:
    return atomic.join(output, "run.json")


def read_run_json(output: str) -> dict[str, Any] | None:
    """None for a fresh output; untrusted.BadSample (a ValueError) for one that is not a bounded json object."""
    return read_json_file(run_json_path(output))


def write_run_json(output: str, record: dict[str, Any]) -> None:
    atomic.write_bytes(run_json_path(output), json.dumps(record, indent=1, default=str).encode())


def new_record(config: dict[str, Any], config_digest: str, input_digest: str, inputs: list[dict], models: dict,
               pixel_digest: str) -> dict:
    return {
        "humanverse_version": humanverse.__version__,
        "python": platform.python_version(),
        "config": config,
        "config_digest": config_digest,
        "input_digest": input_digest,
        "inputs": inputs,
        "models": models,
        "pixel_digest": pixel_digest,
        "started_at": time.time(),
        "finished_at": None,
        "status": "running",
        "counts": None,
    }


def pixel_digest_of(record: dict[str, Any] | None) -> str:
    """The pixel digest definition a run writes (imaging/pixel_digest.py), part of its contract: a fresh run
    (no run.json) takes today's; a run keeps the one its run.json records, and one that records none was
    written before definitions were recorded (sha256). ResumeRefused for a definition this version lacks."""
    if record is None:
        return CURRENT
    definition = record.get("pixel_digest", UNRECORDED)
    if definition not in DEFINITIONS:
        raise ResumeRefused(f"run.json records the pixel digest {definition!r}, which this version does not know "
                            f"({', '.join(DEFINITIONS)}); use a new --output")
    return definition
