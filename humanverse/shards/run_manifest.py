"""OUT/run.json and the resume decision: refuse a changed config or input list (which tasks are complete:
engine/done_tasks.py)."""

from __future__ import annotations

import json
import platform
import time
from typing import Any

import humanverse
from humanverse.shards import atomic
from humanverse.shards.untrusted import read_json_file


class ResumeRefused(RuntimeError):
    pass


def run_json_path(output: str) -> str:
    return atomic.join(output, "run.json")


def read_run_json(output: str) -> dict[str, Any] | None:
    """None for a fresh output; untrusted.BadSample (a ValueError) for one that is not a bounded json object."""
    return read_json_file(run_json_path(output))


def check_resume(output: str, config_digest: str, input_digest: str, force: bool) -> dict[str, Any] | None:
    """Return the previous run.json (None for a fresh output) or refuse when what made it has changed."""
    previous = read_run_json(output)
    if previous is None or force:
        return previous
    changed = []
    if previous.get("config_digest") != config_digest:
        changed.append("the config")
    if previous.get("input_digest") != input_digest:
        changed.append("the input list")
    if changed:
        raise ResumeRefused(
            f"{output} was written with a different {' and '.join(changed)}; refusing to mix shards. "
            "Use a new --output, or --force to resume anyway (complete shards are kept as they are)."
        )
    return previous


def write_run_json(output: str, record: dict[str, Any]) -> None:
    atomic.write_bytes(run_json_path(output), json.dumps(record, indent=1, default=str).encode())


def new_record(config: dict[str, Any], config_digest: str, input_digest: str, inputs: list[dict], models: dict) -> dict:
    return {
        "humanverse_version": humanverse.__version__,
        "python": platform.python_version(),
        "config": config,
        "config_digest": config_digest,
        "input_digest": input_digest,
        "inputs": inputs,
        "models": models,
        "started_at": time.time(),
        "finished_at": None,
        "status": "running",
        "counts": None,
    }
