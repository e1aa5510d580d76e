"""Depth and normal stages load published-format random weights and write DESIGN §5 members."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from humanverse.models.dense import omnidata
from humanverse.models.dense import dpt_midas
from humanverse.stages.depth import DepthConfig, DepthStage
from humanverse.stages.normal import NormalConfig, NormalStage
from humanverse.models.files import MissingModelFiles
from humanverse.core.sample import Sample
from humanverse.shards.encoding import NORMAL_CONVENTION, decode_depth16, decode_normal

MIDAS = dpt_midas.DEMO_DIR
OMNI_DEPTH = f"{omnidata.DEMO_DIR}/{omnidata.DEPTH_FILE}"
OMNI_NORMAL = f"{omnidata.DEMO_DIR}/{omnidata.NORMAL_FILE}"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    dpt_midas.build_demo_weights(root)
    omnidata.build_demo_weights(root)
    return root


def _samples():
    rng = np.random.default_rng(0)
    return [
        Sample(key=f"k{i}", task_id="t", source={}, image=rng.integers(0, 255, (h, w, 3), dtype=np.uint8), width=w, height=h)
        for i, (h, w) in enumerate([(240, 320), (300, 200)])
    ]


def test_demo_files_are_in_published_layouts(models):
    assert {p.name for p in (models / MIDAS).iterdir()} >= {"config.json", "model.safetensors", "preprocessor_config.json"}
    ckpt = torch.load(models / OMNI_NORMAL, map_location="cpu", weights_only=True)
    sd = ckpt["state_dict"]
    assert "model.pretrained.model.patch_embed.backbone.stem.conv.weight" in sd
    assert "model.pretrained.model.head.weight" in sd  # timm's class head, present in the published files
    assert "model.pretrained.act_postprocess4.4.weight" in sd
    assert "model.scratch.refinenet4.resConfUnit1.conv1.weight" in sd
    assert sd["model.scratch.output_conv.4.weight"].shape[0] == 3


def test_depth_stage_writes_16bit_primary_and_secondary_members(models):
    cfg = DepthConfig(models=["midas", "omnidata"], primary="midas", midas_weights=MIDAS,
                      omnidata_weights=OMNI_DEPTH, omnidata_arch="tiny")
    stage = DepthStage(cfg, models_dir=str(models))
    stage.ensure_setup()
    samples = _samples()
    stage.process(samples)
    for s in samples:
        for key in ("depth", "depth_omnidata"):
            data = s.members[f"{key}.png"]
            with Image.open(io.BytesIO(data)) as im:
                assert im.mode.startswith("I;16") or im.mode == "I"
                assert im.size == (s.width, s.height)
            info = s.info[key]
            assert info["member"] == f"{key}.png" and info["kind"] == "relative inverse depth"
            assert info["max"] > info["min"]
            d = decode_depth16(data)
            assert d.min() == 0.0 and d.max() == 1.0
            assert s.info["models"][key] == info["model"] and "sha256:" in info["model"]
    assert set(stage.model_ids()) == {"depth", "depth_omnidata"}


def test_omnidata_can_be_primary():
    cfg = DepthConfig(models=["omnidata"], primary="omnidata")
    assert DepthStage.annotation("omnidata", cfg.primary) == "depth"
    with pytest.raises(ValueError, match="primary"):
        DepthConfig(models=["omnidata"], primary="midas")


def test_normal_stage_writes_unit_normals_with_convention(models):
    stage = NormalStage(NormalConfig(weights=OMNI_NORMAL, arch="tiny"), models_dir=str(models))
    stage.ensure_setup()
    samples = _samples()
    stage.process(samples)
    for s in samples:
        n = decode_normal(s.members["normal.png"])
        assert n.shape == (s.height, s.width, 3)
        assert np.abs(np.linalg.norm(n, axis=-1) - 1).max() < 0.02  # unit, up to 8-bit quantisation
        assert s.info["normal"]["convention"] == NORMAL_CONVENTION
        assert s.info["models"]["normal"] == stage.model_ids()["normal"]


def test_omnidata_frame_is_converted_to_y_up():
    # 2D3DS: +y points DOWN the image. A floor seen from above faces up: (0, -1, 0) there -> (0, 1, 0) for us.
    floor = np.array([[[0.5, 0.0, 0.5]]], np.float32)  # rgb in [0, 1]: n = 2 * rgb - 1 = (0, -1, 0)
    towards_camera = np.array([[[0.5, 0.5, 1.0]]], np.float32)
    np.testing.assert_allclose(omnidata.omnidata_to_convention(floor)[0, 0], [0, 1, 0], atol=1e-6)
    np.testing.assert_allclose(omnidata.omnidata_to_convention(towards_camera)[0, 0], [0, 0, 1], atol=1e-6)


def test_depth_checkpoint_is_not_accepted_as_normals(models):
    with pytest.raises(ValueError, match="normal"):
        omnidata.load_omnidata(models / OMNI_DEPTH, "normal", "tiny")


def test_missing_files_are_named(tmp_path):
    stage = DepthStage(DepthConfig(models=["midas"], midas_weights="nowhere/midas"), models_dir=str(tmp_path))
    with pytest.raises(MissingModelFiles, match="config.json"):
        stage.ensure_setup()
    (tmp_path / "nowhere" / "midas").mkdir(parents=True)
    (tmp_path / "nowhere" / "midas" / "config.json").write_text("{}")
    with pytest.raises(MissingModelFiles, match="model.safetensors"):
        DepthStage(DepthConfig(models=["midas"], midas_weights="nowhere/midas"), models_dir=str(tmp_path)).ensure_setup()
    normal = NormalStage(NormalConfig(weights="omni/omnidata_dpt_normal_v2.ckpt"), models_dir=str(tmp_path))
    with pytest.raises(MissingModelFiles, match="omnidata_dpt_normal_v2.ckpt"):
        normal.ensure_setup()
