"""Omnidata conformance: checkpoints written by the authors' DPTDepthModel at a tiny size (tests/fixtures/omnidata,
see its README), saved as PL 1.1.8 training checkpoints, load into our network and give the authors' outputs; the
depth map is the authors' demo conversion, 1 - clamp(d)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from humanverse.models.dense import omnidata

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "omnidata"


@pytest.fixture(scope="module")
def io():
    with np.load(FIXTURES / "omnidata_io.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def test_normal_network_matches_the_authors_dpt_on_a_non_384_input(io):
    model = omnidata.load_omnidata(FIXTURES / "omnidata_dpt_normal_v2_tiny.ckpt", "normal", arch="tiny")
    x = torch.from_numpy(io["image"][:128, :128]).permute(2, 0, 1).float()[None] / 255.0
    with torch.no_grad():
        ours = model(x).clamp(0, 1).numpy()
    assert np.abs(ours - io["normal_clamped"]).max() <= 1e-5


def test_depth_predictor_gives_the_authors_demo_depth_1_minus_d(io):
    predictor = omnidata.OmnidataPredictor(FIXTURES / "omnidata_dpt_depth_v2_tiny.ckpt", "depth", arch="tiny")
    (ours,) = predictor([io["image"]])
    assert ours.shape == (384, 384)
    assert np.abs(ours - io["depth_demo"][0]).max() <= 1e-5


def test_nearness_is_bounded_where_the_head_outputs_zero():
    d = np.array([[0.0, 0.25], [1.0, 1.5]], dtype=np.float32)
    np.testing.assert_allclose(omnidata.depth_to_nearness(d), [[1.0, 0.75], [0.0, 0.0]])
