"""OUT/run.json and the resume decision: refuse a changed config or input list (which tasks are complete:
engine/done_tasks.py)."""

from __future__ import annotations

import json
import platform
import time
from typing import Any, Callable

import fsspec

import humanverse
from humanverse.shards import atomic


class ResumeRefused(RuntimeError):
    pass


def run_json_path(output: str) -> str:
    return atomic.join(output, "run.json")


def read_run_json(output: str) -> dict[str, Any] | None:
    fs, path = fsspec.core.url_to_fs(run_json_path(output))
    if not fs.exists(path):
        return None
    return json.loads(fs.cat_file(path))


def check_resume(output: str, config_digest: str, input_digest: str, force: bool,
                 same_config: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any] | None:
    """Return the previous run.json (None for a fresh output) or refuse when what made it has changed.
    same_config(previous) may accept a run.json whose digest differs (one written with a legacy digest)."""
    previous = read_run_json(output)
    if previous is None or force:
        return previous
    changed = []
    if previous.get("config_digest") != config_digest and not (same_config and same_config(previous)):
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
