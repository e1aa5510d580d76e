"""Tiny untrained models for the demo preset, built offline on first use under MODELS_DIR/demo.

Each is a real architecture (scaled down) with random weights, written in its published file format and
loaded by the same production code as the real weights. Their outputs mean nothing; the demo says so.
Which models are built is not listed here: each stage backend table row (stages/backend_table.py) names its
demo build, and model_provenance.ensure_demo_models collects them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from humanverse.models.files import models_dir

DEMO_SUBDIR = "demo"
_VERSION = "4"  # 4: the NSFW head is the imported safetensors with its categorical lookup


def ensure_built(configured_dir: str | None, builds: list[tuple[str, Callable[[Path], object]]], say=print) -> Path:
    """Build whatever is missing (once; concurrent callers wait on a lock) and return the demo folder.

    `builds` are (what, builder) pairs; the stage backend tables hold them and model_provenance.py's
    ensure_demo_models hands them over (models/ never imports the stages)."""
    if not builds:
        raise ValueError("no demo builds given: call humanverse.model_provenance.ensure_demo_models")
    root = models_dir(configured_dir) / DEMO_SUBDIR
    marker = root / f".built-v{_VERSION}"
    if marker.exists():
        return root
    root.mkdir(parents=True, exist_ok=True)
    with FileLock(str(root) + ".lock"):
        if marker.exists():
            return root
        for what, build in builds:
            say(f"building untrained demo model: {what}")
            build(root)
        marker.write_text("tiny random-weight models for the demo preset; not trained\n")
    return root
