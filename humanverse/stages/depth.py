"""Stage: relative inverse depth from MiDaS DPT-hybrid, Omnidata and/or Sapiens2, as 16-bit PNG members.

The primary model's map becomes `depth.png` (DESIGN §5) with info["depth"] = {model, min, max, kind, member};
every other configured model adds `depth_<model>.png` and info["depth_<model>"]. Maps are at the image's
original size, min-max normalised per image; the json keeps the range they came from (and, for Sapiens2,
whose pointmap is metric, the z range in metres). BACKENDS is the depth table (stages/backend_table.py):
a new depth model is one model file plus one row there; `depth.models` accepts every row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from humanverse.models.dense.resize_mode import ResizeMode
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.frame import DenseMap
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.shards.encoding import encode_depth16
from humanverse.stages.backend_table import Backend, known
from humanverse.stages.dense_rows import omnidata_row, sapiens_row

KIND = "relative inverse depth"


def _midas_files(cfg: "DepthConfig", models_dir: str | None) -> list[Path]:
    from humanverse.models.dense.dpt_midas import WEIGHT_FILES, check_files

    path = locate(cfg.midas_weights, ["config.json"], models_dir)
    check_files(path)
    return [path / "config.json"] + [path / f for f in WEIGHT_FILES if (path / f).exists()][:1]


def _load_midas(cfg: "DepthConfig", files: list[Path], stage: Stage):
    from humanverse.models.dense.dpt_midas import MidasDepth

    return MidasDepth(files[0].parent, stage.use_device(), cfg.midas_resize)


def _load_sapiens(cfg: "DepthConfig", files: list[Path], stage: Stage):
    from humanverse.models.sapiens.dense import SapiensDepth

    return SapiensDepth(files[0].parent, stage.use_device())


def _build_tiny_midas(root: Path):
    from humanverse.models.dense import dpt_midas

    return dpt_midas.build_demo_weights(root)


BACKENDS: dict[str, Backend] = {
    "midas": Backend(
        "midas", ("dpt-hybrid-midas",), weights=lambda c: c.midas_weights, files=_midas_files, load=_load_midas,
        label=lambda c: "dpt-hybrid-midas", shown=lambda c: c.midas_weights, demo="random",
        demo_build=("depth (tiny DPT-hybrid MiDaS, HF layout)", _build_tiny_midas),
    ),
    "omnidata": omnidata_row("depth", "omnidata-depth-v2", "omnidata_weights", "omnidata_arch", "omnidata_resize"),
    "sapiens": sapiens_row("sapiens2-pointmap-0.4b", "sapiens_weights", "sapiens_arch", "pointmap-z", _load_sapiens),
}
"""depth.models entries -> their rows (stages/backend_table.py). A predictor maps RGB images to float maps at
each image's size; one with `last_ranges` adds those fields (e.g. a metric z range) to the json."""


def _encode_depth(depth: np.ndarray) -> tuple[bytes, dict]:
    return encode_depth16(depth)


class DepthConfig(Section):
    models: list[str] = Field(default_factory=lambda: ["midas", "omnidata"], min_length=1)
    """Which depth models run (the paper uses both): rows of BACKENDS."""
    primary: str = "midas"
    """Whose map is depth.png; the others are depth_<model>.png."""
    midas_weights: str = "hf:Intel/dpt-hybrid-midas"
    """HF layout directory (or hf:<repo> in the local HF cache)."""
    midas_resize: ResizeMode = "stretch"
    omnidata_weights: str = "omnidata/omnidata_dpt_depth_v2.safetensors"
    omnidata_arch: Literal["dpt-hybrid", "tiny"] = "dpt-hybrid"
    omnidata_resize: ResizeMode = "pad"
    sapiens_weights: str = "hf:facebook/sapiens2-pointmap-0.4b"
    """Sapiens2 pointmap, HF layout (folder or hf:<repo> in the local HF cache); depth is its z."""
    sapiens_arch: Literal["sapiens2-0.4b", "sapiens2-1b", "sapiens2-tiny"] = "sapiens2-0.4b"
    """Only names the model in json and run.json; the architecture comes from the folder's config."""
    resources: Resources = Resources(num_cpus=2, num_gpus=0, batch_size=4)

    @field_validator("models")
    @classmethod
    def _rows(cls, value: list[str]) -> list[str]:
        return [known(BACKENDS, "depth model", name) for name in value]

    @field_validator("primary")
    @classmethod
    def _a_row(cls, value: str) -> str:
        return known(BACKENDS, "depth.primary", value)

    @model_validator(mode="after")
    def _primary_runs(self):
        if self.primary not in self.models:
            raise ValueError(f"depth.primary {self.primary!r} is not in depth.models {self.models}")
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"depth.models has duplicates: {self.models}")
        return self


class DepthStage(Stage):
    name = "depth"
    backends = BACKENDS

    def __init__(self, cfg: DepthConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._predictors: dict[str, object] = {}
        self._ids: dict[str, str] = {}

    @classmethod
    def declared_outputs(cls) -> tuple[DenseMap, ...]:
        """depth.png and a depth_<model>.png per row, whichever is primary."""
        names = ["depth"] + [f"depth_{name}" for name in BACKENDS]
        return tuple(DenseMap(name, "linear", _encode_depth) for name in names)

    @classmethod
    def used_backends(cls, cfg: DepthConfig) -> list[tuple[str, Backend]]:
        return [(f"depth ({name})", BACKENDS[name]) for name in cfg.models]

    def weight_checks(self):
        return [lambda name=name: self._files(name) for name in self.cfg.models]

    def _files(self, name: str) -> list[Path]:
        return BACKENDS[name].files(self.cfg, self.models_dir)

    def setup(self) -> None:
        for name in self.cfg.models:
            self._predictors[name] = BACKENDS[name].load(self.cfg, self._files(name), self)
        self.model_ids()

    @staticmethod
    def annotation(name: str, primary: str) -> str:
        """'depth' for the primary model, 'depth_<model>' otherwise: the member stem and the json key."""
        return "depth" if name == primary else f"depth_{name}"

    def model_ids(self) -> dict[str, str]:
        if not self._ids:
            for name in self.cfg.models:
                self._ids[self.annotation(name, self.cfg.primary)] = BACKENDS[name].run_id(self.cfg, self._files(name))
        return dict(self._ids)

    def process(self, batch: list[Sample]) -> None:
        todo = self.alive(batch)
        if not todo:
            return
        for name in self.cfg.models:
            maps = self._predictors[name]([s.image for s in todo])
            extras = getattr(self._predictors[name], "last_ranges", None) or [{}] * len(maps)
            key = self.annotation(name, self.cfg.primary)
            for sample, depth, extra in zip(todo, maps, extras):
                sample.info[key] = {"model": self._ids[key], "kind": KIND, **extra}
                self.record_models(sample, key)
                self.publish_map(sample, key, depth)  # outpainted: restore crops it to the original frame
