"""The base every config section inherits, so that typos in YAML fail loudly instead of being ignored, and
the one loader every command uses (curate presets and trainer presets alike): YAML, then `--set`
overrides, then validation whose errors name the key."""

import difflib
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError


class Section(BaseModel):
    """A typed config section: unknown keys are errors, values are validated on construction. No float
    may be inf or nan (`--set x=.inf` parses as YAML): a bound or a timeout switched off by accident."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)


S = TypeVar("S", bound=Section)


class ConfigError(ValueError):
    pass


def load_yaml(path: str | Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not a readable YAML file: {exc}") from None
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
            msg = unknown_key_message(model, err["loc"]) if err["type"] == "extra_forbidden" else err["msg"]
            lines.append(f"  {where}: {msg}")
        raise ConfigError("invalid config:\n" + "\n".join(lines)) from None


def unknown_key_message(model: type[BaseModel], loc: tuple) -> str:
    """'unknown key', with the nearest known keys of that section when a typo is likely."""
    section = _section_at(model, loc[:-1])
    if section is None or not isinstance(loc[-1], str):
        return "unknown key"
    close = difflib.get_close_matches(loc[-1], list(section.model_fields), n=3, cutoff=0.6)
    return "unknown key" + (f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else "")


def _section_at(model: type[BaseModel], path: tuple) -> type[BaseModel] | None:
    """The model class a validation error's location points into (None where it is not a model)."""
    for key in path:
        field = model.model_fields.get(key) if isinstance(key, str) else None
        if field is None:
            return None
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        models = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not models:
            return None
        model = models[0]
    return model


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
    try:
        node[keys[-1]] = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise ValueError(f"override {assignment!r}: the value is not YAML ({exc.__class__.__name__})") from None
