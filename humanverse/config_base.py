"""The base every config section inherits, so that typos in YAML fail loudly instead of being ignored."""

from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A typed config section: unknown keys are errors, values are validated on construction."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def apply_override(tree: dict[str, Any], assignment: str) -> None:
    """Apply one `a.b.c=value` override in place; the value is parsed as YAML (so 1e-4, true, [1, 2], null work)."""
    if "=" not in assignment:
        raise ValueError(f"override must look like section.key=value, got {assignment!r}")
    dotted, raw = assignment.split("=", 1)
    keys = dotted.strip().split(".")
    if not all(keys):
        raise ValueError(f"bad key path in override {assignment!r}")
    node = tree
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ValueError(f"override {assignment!r}: {key!r} is not a section")
        node = child
    node[keys[-1]] = yaml.safe_load(raw)
