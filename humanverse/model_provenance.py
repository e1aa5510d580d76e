"""Which models a config runs, read from the stages' backend tables (stages/backend_table.py), never a list.

Every derived view of the tables is here: the curate banner, the summary and the inspect report say which
stages run trained models and which run the tiny random-weight demo models (a row's weights under the models
dir's `demo/`, or a tiny architecture such as `sapiens2-tiny`, are random; a model shipped inside a wheel,
OpenCV HOG or MediaPipe, is trained); `humanverse models list/check --preset` gets the registry entries a
preset needs (a curate preset's from its rows, a trainer preset's from the paths its YAML names); the demo
preset's tiny builds are the rows' demo builds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from humanverse.config import CurateConfig, preset_names, resolve
from humanverse.models.demo_weights import ensure_built
from humanverse.models.registry import REGISTRY
from humanverse.plan import plan
from humanverse.stages.backend_table import Backend


@dataclass(frozen=True)
class StageModel:
    stage: str
    model: str
    trained: bool


def backends_in_use(cfg: CurateConfig) -> list[tuple[str, Backend, object]]:
    """(what the banner calls the stage, row, the stage's own config) for every model the config runs."""
    out = []
    for _, stage_cls, args, on in plan(cfg):
        if on and hasattr(stage_cls, "used_backends"):
            out += [(stage, row, args[0]) for stage, row in stage_cls.used_backends(args[0])]
    return out


def tables() -> dict[str, dict[str, Backend]]:
    """Every model stage's table (its `backends`, the BACKENDS of its module), by stage name, in plan order."""
    found: dict[str, dict[str, Backend]] = {}
    for _, stage_cls, _, _ in plan(CurateConfig()):
        table = getattr(stage_cls, "backends", None)
        if table is not None:
            found.setdefault(stage_cls.name, table)
    return found


def stage_models(cfg: CurateConfig) -> list[StageModel]:
    """One entry per stage (the models of a stage that runs several, clip/aesthetic/nsfw, are one entry:
    trained only if all are)."""
    out: list[StageModel] = []
    for stage, row, section in backends_in_use(cfg):
        if out and out[-1].stage == stage:
            out[-1] = StageModel(stage, out[-1].model, out[-1].trained and row.trained(section))
        else:
            out.append(StageModel(stage, row.shown(section), row.trained(section)))
    return out


def provenance_line(cfg: CurateConfig) -> str:
    """'trained: a, b; tiny random weights (output is noise): c, d' for banners and reports."""
    models = stage_models(cfg)
    trained = [f"{m.stage} ({m.model})" for m in models if m.trained]
    random = [m.stage for m in models if not m.trained]
    parts = [f"trained models: {', '.join(trained) or 'none'}"]
    if random:
        parts.append(f"tiny random-weight models, output is noise: {', '.join(random)}")
    return "; ".join(parts)


def registry_needs(cfg: CurateConfig) -> list[str]:
    """Registry entries (models/registry.py) the config reads published files from, in pipeline order: the
    rows it runs, except demo builds and tiny architectures."""
    names: list[str] = []
    for _, row, section in backends_in_use(cfg):
        if row.trained(section):
            names += [n for n in row.registry if n not in names]
    return names


def demo_builds() -> list[tuple[str, object]]:
    """Every row's tiny random-weight build, once each (rows sharing a build, Omnidata depth and normal,
    name the same one), in pipeline order."""
    builds: dict[str, object] = {}
    for table in tables().values():
        for row in table.values():
            if row.demo_build is not None:
                builds.setdefault(row.demo_build[0], row.demo_build[1])
    return list(builds.items())


def ensure_demo_models(configured_dir: str | None, say=print) -> Path:
    """Build the demo preset's tiny models under MODELS_DIR/demo once (models/demo_weights.py)."""
    return ensure_built(configured_dir, demo_builds(), say)


PRESETS_DIR = Path(__file__).resolve().parent / "presets"


def _trainer_preset(name: str) -> Path | None:
    """train_lsd, lsd, hand-body, train_hand_body, ... -> presets/train_<name>.yaml (as `humanverse train`)."""
    stem = name.replace("-", "_")
    path = PRESETS_DIR / f"{stem if stem.startswith('train_') else 'train_' + stem}.yaml"
    return path if path.is_file() else None


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def preset_needs(name: str) -> list[str] | None:
    """Registry entries a preset needs: a curate preset's from the rows it runs, a trainer preset's (lsd,
    train_lsd, hand-body, ...) from the model paths its YAML names; None for a name that is neither."""
    if name in preset_names():
        return registry_needs(resolve(name, None, []))
    path = _trainer_preset(name)
    if path is None:
        return None
    paths = _strings(yaml.safe_load(path.read_text()))
    return [e.name for e in REGISTRY if any(p == e.spec or p.startswith(e.spec.rstrip("/") + "/") for p in paths)]


def preset_choices() -> list[str]:
    """Every name preset_needs answers, trainers by their `humanverse train` method names."""
    trainers = sorted(p.stem.removeprefix("train_").replace("_", "-") for p in PRESETS_DIR.glob("train_*.yaml"))
    return preset_names() + trainers
