"""Actors start without torch until a stage's setup() needs it: every Ray worker imports ray_ops and
unpickles its stage group, and a torch import there cost each fetch actor ~13% of its time (py-spy)."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

from humanverse.config import resolve
from humanverse.model_provenance import ensure_demo_models
from humanverse.plan import build_stage_groups

HEAVY = ("torch", "webdataset", "open_clip", "ultralytics", "mmpose", "diffusers", "mediapipe")
CHILD = (
    "import pickle, sys; import humanverse.engine.ray_ops; group = pickle.loads(sys.stdin.buffer.read()); "
    f"print(group.name, sorted(m for m in {HEAVY!r} if m in sys.modules))"
)


def test_stage_groups_unpickle_without_model_libraries():
    cfg = resolve("demo", None, [])
    ensure_demo_models(cfg.models_dir)
    groups = build_stage_groups(cfg)
    assert [g.name for g in groups] == ["fetch", "detect", "clip_scores", "annotate"]
    for group in groups:
        out = subprocess.run([sys.executable, "-c", CHILD], input=pickle.dumps(group), capture_output=True,
                             check=True)
        assert out.stdout.decode().split() == [group.name, "[]"], out.stdout.decode()


SETUP_CHILD = (
    "import pickle, sys; stages = pickle.loads(sys.stdin.buffer.read()); [s.ensure_setup() for s in stages]; "
    f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
)


@pytest.mark.parametrize("backend", ["blazepose", "hog"])
def test_demo_detect_group_sets_up_without_torch(backend):
    """The demo's detect actor (BlazePose on LiteRT, or HOG, + person rule + pHash) runs no torch: importing
    torch to set threads it never uses cost that actor ~2 s of start-up and ~0.3 GB."""
    groups = {g.name: g for g in build_stage_groups(resolve("demo", None, [f"detect.backend={backend}"]))}
    out = subprocess.run([sys.executable, "-c", SETUP_CHILD], input=pickle.dumps(groups["detect"].stages),
                         capture_output=True, check=True)
    assert out.stdout.decode().split() == ["[]"], out.stdout.decode()
