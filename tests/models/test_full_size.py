"""Full-size architectures saved in the published formats and loaded through the production path (slow)."""

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.slow


def test_vitpose_h_published_checkpoint_round_trip(tmp_path):
    pytest.importorskip("mmpose")
    from humanverse.models.pose.pose_mmpose import MMPoseHeatmaps, build_demo_weights
    from humanverse.models.pose.pose_topdown import estimate_poses

    path = build_demo_weights(tmp_path, arch="vitpose-h")
    sd = torch.load(path, map_location="cpu", weights_only=True)["state_dict"]
    assert sd["backbone.pos_embed"].shape == (1, 193, 1280)
    assert "backbone.blocks.31.mlp.fc2.weight" in sd and "keypoint_head.final_layer.weight" in sd
    net = MMPoseHeatmaps("vitpose-h", path)
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), dtype=np.uint8)
    (kps,) = estimate_poses([image], [np.array([[100, 50, 300, 450]])], net, flip_test=True)
    assert kps.shape == (1, 133, 3)


def test_midas_dpt_hybrid_hf_layout_round_trip(tmp_path):
    from transformers import DPTForDepthEstimation

    from humanverse.models.dense.dpt_midas import MidasDepth, build_demo_weights

    build_demo_weights(tmp_path, arch="dpt-hybrid")
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    depth = MidasDepth(folder)
    assert sum(p.numel() for p in depth.model.parameters()) == pytest.approx(122.4e6, rel=0.01)  # Intel/dpt-hybrid-midas
    (d,) = depth([np.zeros((100, 150, 3), np.uint8)])
    assert d.shape == (100, 150)
    assert isinstance(depth.model, DPTForDepthEstimation)


def test_omnidata_full_size_matches_midas_hybrid_parameter_count(tmp_path):
    from transformers import DPTForDepthEstimation

    from humanverse.models.dense import omnidata
    from humanverse.models.dense.dpt_midas import dpt_config

    omnidata.build_demo_weights(tmp_path, arch="dpt-hybrid")
    model = omnidata.load_omnidata(tmp_path / "omnidata-dpt-hybrid" / omnidata.DEPTH_FILE, "depth")
    hf = DPTForDepthEstimation(dpt_config("dpt-hybrid"))
    timm_class_head = 768 * 1000 + 1000  # kept in the published Omnidata files, dropped by transformers
    ours = sum(p.numel() for p in model.parameters())
    assert ours == sum(p.numel() for p in hf.parameters()) + timm_class_head
    normal = omnidata.OmnidataPredictor(tmp_path / "omnidata-dpt-hybrid" / omnidata.NORMAL_FILE, "normal")
    (n,) = normal([np.zeros((120, 90, 3), np.uint8)])
    assert n.shape == (120, 90, 3)
