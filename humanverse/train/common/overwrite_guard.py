"""A run directory that already holds checkpoints is never trained into from step 1 by accident.

Without `--resume`, a trainer starts at step 1 and its saves replace checkpoint-N of the earlier run, one
by one: days of training lost to a forgotten flag. So that is refused (exit 2, as curate refuses to mix
outputs), naming both ways on: `--resume latest` to continue, `--overwrite` to start over (which removes
the old checkpoints first, so a later `--resume latest` can never pick up a step of the earlier run).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from humanverse.train.common.checkpoints import list_checkpoints


class RunDirInUse(ValueError):
    """The run directory holds checkpoints and neither --resume nor --overwrite was given."""


def check_run_dir(run_dir: str | Path, resume: str | None, overwrite: bool) -> list[Path]:
    """Refuse, or (with overwrite) remove the earlier checkpoints; returns what was removed."""
    found = list_checkpoints(run_dir)
    if resume or not found:
        return []
    if not overwrite:
        names = ", ".join(p.name for p in found[:3]) + (f" ... {found[-1].name}" if len(found) > 3 else "")
        raise RunDirInUse(f"{run_dir} already holds {len(found)} checkpoint(s) ({names}). Add --resume latest to "
                          "continue that run, or --overwrite to delete them and start over at step 1, or use "
                          "another --output.")
    if os.environ.get("RANK", "0") == "0":  # one process removes them (multi-GPU: every rank runs this)
        for path in found:
            shutil.rmtree(path, ignore_errors=True)
    return found
