"""Which inputs' finished tasks may be kept when curate runs again into an output it wrote before.

Task ids name a position (input index, chunk), not content: task 00000-00000 of another input list is
another task. So an input's tasks are kept only when the previous run listed the same input at the same
position, with the same format, row count and identity (input_identity.py). Without --force any change
is refused; with --force the unchanged inputs' tasks are kept and every other task's files are removed
and redone, and the caller says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from humanverse.engine.planner import Plan
from humanverse.shards.run_manifest import ResumeRefused, read_run_json


@dataclass
class ResumeDecision:
    previous: dict[str, Any] | None
    keep: list[bool]
    """Per input of the plan: may its finished tasks be kept?"""
    identities: list[str]
    changed: list[str] = field(default_factory=list)
    """What differs from the previous run, in words (empty: nothing)."""

    @property
    def fresh(self) -> bool:
        return self.previous is None


def input_records(plan: Plan, identities: list[str]) -> list[dict[str, Any]]:
    """run.json's `inputs`: what the resume check of the next run compares against."""
    return [{"path": i.path, "format": i.format, "rows": i.rows, "identity": ident}
            for i, ident in zip(plan.inputs, identities)]


def _same_input(old: dict, new: dict, rows_per_task_same: bool) -> bool:
    if not rows_per_task_same:
        return False
    if any(old.get(k) != new[k] for k in ("path", "format", "rows")):
        return False
    # run.json files written before identities were recorded: path, format and rows were all there was.
    return "identity" not in old or old["identity"] == new["identity"]


def decide(output: str, config_digest: str, rows_per_task: int, plan: Plan, identities: list[str],
           force: bool, same_config: Callable[[dict[str, Any]], bool] | None = None) -> ResumeDecision:
    """same_config(previous run.json) may accept a config digest that differs (one written with a legacy
    digest, config_digest.py)."""
    previous = read_run_json(output)
    new = input_records(plan, identities)
    if previous is None:
        return ResumeDecision(None, [True] * len(new), identities)
    old = previous.get("inputs") or []
    old_rows_per_task = ((previous.get("config") or {}).get("input") or {}).get("rows_per_task")
    same_chunks = old_rows_per_task in (None, rows_per_task)
    keep = [n < len(old) and isinstance(old[n], dict) and _same_input(old[n], rec, same_chunks)
            for n, rec in enumerate(new)]
    changed = []
    if previous.get("config_digest") != config_digest and not (same_config and same_config(previous)):
        changed.append("a different config")
    if not all(keep) or len(old) != len(new):
        changed.append(_input_change(old, new, keep, same_chunks))
    if changed and not force:
        raise ResumeRefused(
            f"{output} was written with {' and with '.join(changed)}; refusing to mix shards. "
            "Use a new --output, or --force to reuse it: complete shards of unchanged inputs are kept as they "
            "are, and the shards of every other task are removed and redone.")
    return ResumeDecision(previous, keep, identities, changed)


def _input_change(old: list, new: list[dict], keep: list[bool], same_chunks: bool) -> str:
    if not same_chunks:
        return "a different input list (input.rows_per_task changed, so every task holds other rows)"
    moved = [rec["path"] for rec, k in zip(new, keep) if not k]
    gone = len(old) - len(new)
    parts = []
    if moved:
        shown = ", ".join(moved[:3]) + (f" and {len(moved) - 3} more" if len(moved) > 3 else "")
        parts.append(f"{len(moved)} input(s) new, moved or changed since: {shown}")
    if gone > 0:
        parts.append(f"{gone} input(s) no longer listed")
    return "a different input list (" + "; ".join(parts) + ")"
