"""The stages' backend tables are the one place a model is known: every derived view (config validation,
weight checks, run ids, the provenance banner, `models list/check --preset`, the demo builds) reads them,
the registry agrees with them, and a depth backend added at test time as one row shows up everywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from humanverse import config as cfgmod
from humanverse.config_base import ConfigError
from humanverse.core.model_check import MissingModelFiles
from humanverse.core.sample import Sample
from humanverse.core.task import TaskPayload, TaskSpec
from humanverse.imaging.outpaint_canvas import make_canvas, pad_to_canvas
from humanverse.model_provenance import backends_in_use, demo_builds, preset_needs, registry_needs, stage_models, tables
from humanverse.models.registry import REGISTRY, by_name
from humanverse.shards.encoding import decode_depth16
from humanverse.stages import depth
from humanverse.stages.backend_table import Backend
from humanverse.stages.clip_scores import ClipScoresConfig
from humanverse.stages.depth import DepthConfig, DepthStage
from humanverse.stages.detect import DetectConfig
from humanverse.stages.hands import HandsConfig
from humanverse.stages.mask import MaskConfig
from humanverse.stages.normal import NormalConfig
from humanverse.stages.outpaint import OutpaintConfig
from humanverse.stages.outpaint_restore import OutpaintRestoreStage
from humanverse.stages.outpaint_state import OutpaintState
from humanverse.stages.parts import PartsConfig
from humanverse.stages.pose import PoseConfig

DEFAULTS = {"detect": DetectConfig(), "clip_scores": ClipScoresConfig(), "outpaint": OutpaintConfig(),
            "pose": PoseConfig(), "depth": DepthConfig(), "normal": NormalConfig(), "parts": PartsConfig(),
            "mask": MaskConfig(), "hands": HandsConfig()}
CURATE_PRESETS = ("demo", "humanverse", "sapiens", "hands")


def test_every_model_stage_has_a_table():
    assert set(tables()) == set(DEFAULTS)


@pytest.mark.parametrize("stage", sorted(DEFAULTS))
def test_each_row_names_registry_entries_that_hold_its_default_weights(stage):
    for name, row in tables()[stage].items():
        assert row.name == name
        spec = row.weights(DEFAULTS[stage])
        for entry in map(by_name, row.registry):  # KeyError: a row names an entry the registry lacks
            assert entry.spec == (spec if spec is not None else "wheel:mediapipe"), (stage, name)


@pytest.mark.parametrize("preset", CURATE_PRESETS + ("train_lsd", "train_refiner"))
def test_registry_preset_tags_agree_with_the_tables(preset):
    """models list/check --preset reads the tables (and trainer presets' paths); the registry's own tags must
    say the same, so neither can drift."""
    assert sorted(preset_needs(preset)) == sorted(e.name for e in REGISTRY if preset in e.presets)


def test_demo_preset_runs_each_row_as_its_demo_flag_says_and_every_random_row_is_built():
    cfg = cfgmod.resolve("demo", None, [])
    built = {what for what, _ in demo_builds()}
    for stage, row, section in backends_in_use(cfg):
        assert row.trained(section) == (row.demo == "trained"), (stage, row.name)
        if row.demo == "random":
            assert row.demo_build is not None and row.demo_build[0] in built, (stage, row.name)


def test_config_sections_accept_exactly_the_rows():
    for name in depth.BACKENDS:
        assert DepthConfig(models=[name], primary=name).models == [name]
    with pytest.raises(ConfigError, match="unknown pose.backend 'nope'; known: mmpose, onnx, mediapipe, sapiens"):
        cfgmod.resolve("demo", None, ["pose.backend=nope"])
    with pytest.raises(ConfigError, match="unknown depth model 'nope'"):
        cfgmod.resolve("demo", None, ["depth.models=[midas, nope]"])


# --- a depth backend added as one row, at test time -------------------------------------------------------
class ToyDepth:
    """A 'model file': depth = the image's red channel, at the image's size."""

    def __init__(self, path: Path):
        self.scale = float(path.read_text())

    def __call__(self, images):
        return [im[..., 0].astype(np.float32) * self.scale for im in images]


def _toy_files(cfg, models_dir):
    path = Path(models_dir) / "toy-depth.txt"
    if not path.exists():
        raise MissingModelFiles(f"model toy: {path} not found")
    return [path]


TOY = Backend(
    "toy", (), weights=lambda c: "toy-depth.txt", files=_toy_files, load=lambda c, files, stage: ToyDepth(files[0]),
    label=lambda c: "toy-depth", shown=lambda c: "toy red-channel depth", demo="random",
    demo_build=("depth (toy)", lambda root: (root / "toy-depth.txt").write_text("1")),
)


@pytest.fixture
def toy(monkeypatch, tmp_path):
    monkeypatch.setitem(depth.BACKENDS, "toy", TOY)
    (tmp_path / "toy-depth.txt").write_text("2")
    return tmp_path


def test_a_new_depth_backend_is_one_row_and_every_view_sees_it(toy):
    cfg = cfgmod.resolve("humanverse", None, ["depth.models=[midas, toy]", f"models_dir={toy}"])
    assert ("depth (toy)", "toy red-channel depth", True) in {(m.stage, m.model, m.trained) for m in stage_models(cfg)}
    assert "depth (toy)" in [what for what, _ in demo_builds()]
    paper = registry_needs(cfgmod.resolve("humanverse", None, []))
    assert registry_needs(cfg) == [n for n in paper if n != "omnidata-depth-v2"]  # toy reads no published files

    stage = DepthStage(DepthConfig(models=["toy"], primary="toy"), str(toy))
    stage.check_models()
    stage.setup()
    assert stage.model_ids()["depth"].startswith("toy-depth sha256:")
    sample = Sample(key="k", task_id="t", source={}, width=4, height=3)
    sample.image = np.arange(36, dtype=np.uint8).reshape(3, 4, 3)
    stage.process([sample])
    assert decode_depth16(sample.members["depth.png"]).shape == (3, 4)
    assert sample.info["depth"]["member"] == "depth.png" and sample.info["depth"]["max"] == 66.0

    missing = DepthStage(DepthConfig(models=["toy"], primary="toy"), str(toy / "elsewhere"))
    with pytest.raises(MissingModelFiles, match="toy-depth.txt"):
        missing.check_models()


def test_a_new_depth_backend_needs_no_edit_in_outpaint_restore(toy):
    stage = DepthStage(DepthConfig(models=["midas", "toy"], primary="midas"), str(toy))
    stage._predictors = {"midas": lambda ims: [np.zeros(im.shape[:2], np.float32) for im in ims],
                         "toy": ToyDepth(toy / "toy-depth.txt")}
    stage._ids = {"depth": "m", "depth_toy": "t"}
    stage._ready = True  # set up by hand above: no MiDaS files here
    rng = np.random.default_rng(0)
    original = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    canvas = make_canvas(64, 48, 0.25)
    sample = Sample(key="k", task_id="t", source={}, width=64, height=48)
    sample.image = pad_to_canvas(original, canvas)
    sample.canvas = OutpaintState(original, canvas, [])
    stage.run_task(TaskPayload(TaskSpec("t", "in", "folder", 0, 1), [sample]))
    assert sample.alive and "depth_toy.png" not in sample.members  # waits on the canvas
    OutpaintRestoreStage(OutpaintConfig()).process([sample])
    toy_map = decode_depth16(sample.members["depth_toy.png"])
    expected = original[..., 0].astype(np.float32)
    assert toy_map.shape == (48, 64)
    np.testing.assert_allclose(toy_map, (expected - expected.min()) / (expected.max() - expected.min()), atol=1 / 65535)
    assert sample.info["depth_toy"]["max"] == expected.max() * 2
