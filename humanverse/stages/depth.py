"""Stage: relative inverse depth from MiDaS DPT-hybrid, Omnidata and/or Sapiens2, as 16-bit PNG members.

The primary model's map becomes `depth.png` (DESIGN §5) with info["depth"] = {model, min, max, kind, member};
every other configured model adds `depth_<model>.png` and info["depth_<model>"]. Maps are at the image's
original size, min-max normalised per image; the json keeps the range they came from (and, for Sapiens2,
whose pointmap is metric, the z range in metres).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from humanverse.models.checkpoint_io import model_id
from humanverse.models.dense.resize_mode import ResizeMode
from humanverse.stages.outpaint_state import stash_map
from humanverse.config_base import Section
from humanverse.models.files import locate
from humanverse.core.sample import Sample
from humanverse.core.stage import Resources, Stage
from humanverse.shards.encoding import encode_depth16

DepthModel = Literal["midas", "omnidata", "sapiens"]
KIND = "relative inverse depth"


class DepthConfig(Section):
    models: list[DepthModel] = Field(default_factory=lambda: ["midas", "omnidata"], min_length=1)
    """Which depth models run (the paper uses both)."""
    primary: DepthModel = "midas"
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

    @model_validator(mode="after")
    def _primary_runs(self):
        if self.primary not in self.models:
            raise ValueError(f"depth.primary {self.primary!r} is not in depth.models {self.models}")
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"depth.models has duplicates: {self.models}")
        return self


class DepthStage(Stage):
    name = "depth"

    def __init__(self, cfg: DepthConfig, models_dir: str | None = None):
        super().__init__(cfg.resources)
        self.cfg = cfg
        self.models_dir = models_dir
        self._predictors: dict[str, object] = {}
        self._ids: dict[str, str] = {}

    def weight_checks(self):
        return [lambda name=name: self._files(name) for name in self.cfg.models]

    def _files(self, name: str) -> tuple[Path, list[Path]]:
        if name == "midas":
            from humanverse.models.dense.dpt_midas import WEIGHT_FILES, check_files

            path = locate(self.cfg.midas_weights, ["config.json"], self.models_dir)
            check_files(path)
            return path, [path / "config.json"] + [path / f for f in WEIGHT_FILES if (path / f).exists()][:1]
        if name == "sapiens":
            from humanverse.models.sapiens.loader import folder_files

            files = folder_files(self.cfg.sapiens_weights, self.models_dir)
            return files[0].parent, files
        path = locate(self.cfg.omnidata_weights, [], self.models_dir)
        return path, [path]

    def setup(self) -> None:
        device = self.use_device()
        for name in self.cfg.models:
            path, _ = self._files(name)
            if name == "midas":
                from humanverse.models.dense.dpt_midas import MidasDepth

                self._predictors[name] = MidasDepth(path, device, self.cfg.midas_resize)
            elif name == "sapiens":
                from humanverse.models.sapiens.dense import SapiensDepth

                self._predictors[name] = SapiensDepth(path, device)
            else:
                from humanverse.models.dense.omnidata import OmnidataPredictor

                self._predictors[name] = OmnidataPredictor(path, "depth", self.cfg.omnidata_arch, device, self.cfg.omnidata_resize)
        self.model_ids()

    @staticmethod
    def annotation(name: str, primary: str) -> str:
        """'depth' for the primary model, 'depth_<model>' otherwise: the member stem and the json key."""
        return "depth" if name == primary else f"depth_{name}"

    def model_ids(self) -> dict[str, str]:
        if not self._ids:
            labels = {"midas": "dpt-hybrid-midas", "omnidata": f"omnidata-{self.cfg.omnidata_arch}-depth-v2",
                      "sapiens": f"{self.cfg.sapiens_arch}-pointmap-z"}
            for name in self.cfg.models:
                self._ids[self.annotation(name, self.cfg.primary)] = model_id(labels[name], self._files(name)[1])
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
                if stash_map(sample, key, depth):
                    continue  # outpainted: outpaint_restore crops it to the original frame and encodes it
                png, rng = encode_depth16(depth)
                member = f"{key}.png"
                sample.members[member] = png
                sample.info[key].update(**rng, member=member)
