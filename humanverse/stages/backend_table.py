"""One row of a model stage's backend table: everything the project knows about one model a stage can run.

Each model stage keeps its table, a `BACKENDS` dict (name -> Backend), in its own module: detect, pose,
depth, normal, mask, parts, clip_scores (its three models) and outpaint. The stage runs the row its config
names; the banner and report (model_provenance.py), `humanverse models list/check --preset` and the demo
weight builder (models/demo_weights.py) read the same rows and keep no list of their own. Adding a backend
is one model file plus one row (and, where the config picks it by name, nothing else: the section's
validator reads the table too). tests/stages/test_backend_tables.py finds a row that a derived view misses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from humanverse.models.checkpoint_io import model_id
from humanverse.models.demo_weights import DEMO_SUBDIR

DemoBuild = tuple[str, Callable[[Path], object]]
"""(what it is, builder(demo folder)): a tiny random-weight build written in the published format."""


@dataclass(frozen=True)
class Backend:
    name: str
    registry: tuple[str, ...]
    """Registry entries (models/registry.py) holding the published files it reads with the default config;
    empty for a model with no files (OpenCV HOG)."""
    weights: Callable[[Any], str | None]
    """The weights spec the stage's config points at; None when the files ship inside a wheel or there are none."""
    files: Callable[[Any, str | None], list[Path]]
    """(config, models dir) -> the files it reads, found and checked (MissingModelFiles names what is absent);
    the first is what the loader opens (or, for a folder model, a file in that folder)."""
    load: Callable[[Any, list[Path], Any], Any]
    """(config, files, stage) -> the predictor; calls stage.use_device() itself when it needs torch."""
    label: Callable[[Any], str]
    """Model name in run.json and each sample's info["models"] (the checksum of its files is added to it)."""
    shown: Callable[[Any], str]
    """What the curate banner, summary and inspect report call it."""
    demo: Literal["trained", "random"]
    """What the demo preset runs under this backend: a trained model (from a wheel) or a tiny random build."""
    demo_build: DemoBuild | None = None
    tiny: Callable[[Any], bool] | None = None
    """True when the config names a tiny random architecture, wherever its files lie (sapiens2-tiny)."""
    run_id_of: Callable[[Any, list[Path]], str] | None = None
    """(config, files) -> its id, where that is not 'label sha256:<files>' (HOG: no file; YOLO: the file name)."""

    def run_id(self, cfg: Any, files: list[Path]) -> str:
        """The model id recorded in run.json and each sample's json."""
        return self.run_id_of(cfg, files) if self.run_id_of is not None else model_id(self.label(cfg), files)

    def trained(self, cfg: Any) -> bool:
        """False for a demo build (a weights path under the models dir's demo/ folder) or a tiny architecture."""
        spec = self.weights(cfg)
        if spec is not None and spec.replace("\\", "/").startswith(f"{DEMO_SUBDIR}/"):
            return False
        return not (self.tiny is not None and self.tiny(cfg))


def known(table: Mapping[str, Backend], what: str, value: str) -> str:
    """A config validator's check that a name is a row of the table (read when the config is validated,
    so a row added at run time is accepted too)."""
    if value not in table:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(table)}")
    return value


def weight_check(row: Backend, cfg: Any, models_dir: str | None) -> Callable[[], list[Path]]:
    """A zero-argument check of the row's files, for Stage.weight_checks."""
    return lambda: row.files(cfg, models_dir)


class ChosenBackend:
    """Mixin for a stage whose config names one row of its table in `backend` (detect, pose, normal, parts,
    mask): the row, its files (checked before any work starts) and its predictor. Needs self.cfg and
    self.models_dir; the stage sets `backends` to its table."""

    name: str
    backends: dict[str, Backend]

    @property
    def backend(self) -> Backend:
        return self.backends[self.cfg.backend]

    @classmethod
    def used_backends(cls, cfg) -> list[tuple[str, Backend]]:
        return [(cls.name, cls.backends[cfg.backend])]

    def weight_checks(self):
        return [self._files]

    def _files(self) -> list[Path]:
        return self.backend.files(self.cfg, self.models_dir)

    def load_backend(self):
        return self.backend.load(self.cfg, self._files(), self)

    def backend_id(self) -> str:
        return self.backend.run_id(self.cfg, self._files())
