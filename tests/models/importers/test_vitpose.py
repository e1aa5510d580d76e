"""ViTPose++ (mixture of experts) and plain ViTPose checkpoints made by the authors' code (tests/fixtures/vitpose,
see its README) import into our whole-body model and reproduce the authors' heatmaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("mmpose")

from humanverse.models.import_model import import_model  # noqa: E402
from humanverse.models.pose.pose_mmpose import build_mmpose_model  # noqa: E402
from humanverse.models.pose.vitpose_checkpoint import load_into  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "vitpose"


@pytest.fixture(scope="module")
def io():
    with np.load(FIXTURES / "vitpose_io.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


_MODEL = []


def _heatmaps(path: Path, x: np.ndarray) -> np.ndarray:
    """One tiny model for the module: load_into replaces every tensor strictly, so nothing carries over."""
    if not _MODEL:
        _MODEL.append(build_mmpose_model("tiny", input_size=(128, 96)))
    model = _MODEL[0]
    load_into(model, path)
    with torch.no_grad():
        return model._forward(torch.from_numpy(x)).numpy()


@pytest.mark.parametrize("published", ["vitposepp_raw.pth", "vitposepp_split_wholebody.pth",
                                       "vitposepp_split_wholebody_fixed.pth"])
def test_every_vitposepp_variant_imports_to_the_wholebody_expert(tmp_path, io, published):
    record = import_model("vitpose-h-wholebody", FIXTURES / published, tmp_path)
    ours = _heatmaps(Path(record["path"]), io["x"])
    assert ours.shape == io["heatmaps_moe_wholebody"].shape == (1, 133, 32, 24)
    assert np.abs(ours - io["heatmaps_moe_wholebody"]).max() <= 1e-5
    assert record["source_name"] == published and len(record["source_sha256"]) == 64
    assert Path(record["path"]).name == "vitpose-h-wholebody.safetensors"


def test_plain_vitpose_imports_and_matches_the_authors_vit(tmp_path, io):
    record = import_model("vitpose-h-wholebody", FIXTURES / "vitpose_plain.pth", tmp_path)
    assert np.abs(_heatmaps(Path(record["path"]), io["x"]) - io["heatmaps_plain"]).max() <= 1e-5


def test_a_raw_vitposepp_file_placed_by_hand_is_read_as_its_wholebody_expert(io):
    ours = _heatmaps(FIXTURES / "vitposepp_raw.pth", io["x"])
    assert np.abs(ours - io["heatmaps_moe_wholebody"]).max() <= 1e-5


def test_a_split_file_for_another_dataset_is_refused(tmp_path):
    sd = torch.load(FIXTURES / "vitposepp_split_wholebody_fixed.pth", weights_only=True)
    sd["state_dict"]["keypoint_head.final_layer.weight"] = sd["state_dict"]["keypoint_head.final_layer.weight"][:17]
    sd["state_dict"]["keypoint_head.final_layer.bias"] = sd["state_dict"]["keypoint_head.final_layer.bias"][:17]
    torch.save(sd, tmp_path / "coco.pth")
    with pytest.raises(ValueError, match="17 keypoints"):
        import_model("vitpose-h-wholebody", tmp_path / "coco.pth", tmp_path / "models")
    assert not (tmp_path / "models" / "vitpose").exists() or not any((tmp_path / "models" / "vitpose").iterdir())
