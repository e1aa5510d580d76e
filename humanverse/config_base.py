"""The base every config section inherits, so that typos in YAML fail loudly instead of being ignored, and
the one loader every command uses (curate presets and trainer presets alike): YAML, then `--set`
overrides, then validation whose errors name the key."""

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class Section(BaseModel):
    """A typed config section: unknown keys are errors, values are validated on construction."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


S = TypeVar("S", bound=Section)


class ConfigError(ValueError):
    pass


def load_yaml(path: str | Path) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text()) or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def apply_overrides(tree: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    for item in overrides:
        try:
            apply_override(tree, item)
        except ValueError as exc:
            raise ConfigError(f"--set: {exc}") from None
    return tree


def validate(model: type[S], tree: dict[str, Any]) -> S:
    """The typed config, or one ConfigError listing every bad key by its dotted path."""
    try:
        return model.model_validate(tree)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {where}: {msg}")
        raise ConfigError("invalid config:\n" + "\n".join(lines)) from None


def load(model: type[S], path: str | Path, overrides: list[str] = ()) -> S:
    """A YAML file (a bundled preset or the user's), then the `--set` overrides in order, validated."""
    return validate(model, apply_overrides(load_yaml(path), list(overrides)))


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
