"""Both pose backends load the published layout through the production path and agree with mmpose itself."""

import numpy as np
import pytest

pytest.importorskip("mmpose")
pytest.importorskip("onnxruntime")

from humanverse.models.pose.pose_mmpose import DEMO_WEIGHTS, MMPoseHeatmaps  # noqa: E402
from humanverse.models.pose.pose_onnx import DEMO_ONNX, OnnxHeatmaps, build_demo_weights  # noqa: E402
from humanverse.stages.pose import PoseConfig, PoseStage  # noqa: E402
from humanverse.models.pose.pose_topdown import estimate_poses  # noqa: E402
from humanverse.models.files import MissingModelFiles  # noqa: E402
from humanverse.core.sample import Sample  # noqa: E402


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    build_demo_weights(root)  # writes the .pth (published layout) and its ONNX export
    return root


@pytest.fixture(scope="module")
def image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (300, 400, 3), dtype=np.uint8)


BOXES = np.array([[50, 40, 150, 290], [180, 100, 390, 200], [-20, 0, 80, 120]], dtype=np.float32)


def test_demo_files_exist_in_published_formats(models):
    assert (models / DEMO_WEIGHTS).stat().st_size > 0
    assert (models / DEMO_ONNX).stat().st_size > 0


@pytest.mark.parametrize("flip", [False, True])
def test_onnx_matches_mmpose_on_the_same_weights(models, image, flip):
    mm = MMPoseHeatmaps("tiny", models / DEMO_WEIGHTS)
    ox = OnnxHeatmaps(models / DEMO_ONNX)
    a = estimate_poses([image], [BOXES], mm, flip_test=flip)[0]
    b = estimate_poses([image], [BOXES], ox, flip_test=flip)[0]
    x = np.random.default_rng(1).standard_normal((3, 3, 256, 192)).astype(np.float32)
    np.testing.assert_allclose(ox(x), mm(x), atol=1e-4, rtol=1e-3)
    np.testing.assert_allclose(b[..., 2], a[..., 2], atol=1e-4)
    agree = np.abs(b[..., :2] - a[..., :2]).max(-1) < 1e-2
    assert agree.mean() > 0.98  # near-ties of a random heatmap's argmax may flip under float rounding


@pytest.mark.parametrize("flip", [False, True])
def test_shared_decode_equals_mmposes_own_topdown_pipeline(models, image, flip):
    """mmpose's inference_topdown (its crop, codec, flip) gives the same keypoints as our shared path."""
    from mmpose.apis import inference_topdown

    mm = MMPoseHeatmaps("tiny", models / DEMO_WEIGHTS)
    mm.model.test_cfg["flip_test"] = flip
    ours = estimate_poses([image], [BOXES], mm, flip_test=flip)[0]
    theirs = inference_topdown(mm.model, np.ascontiguousarray(image[..., ::-1]), BOXES, bbox_format="xyxy")
    kp = np.stack([d.pred_instances.keypoints[0] for d in theirs])
    sc = np.stack([d.pred_instances.keypoint_scores[0] for d in theirs])
    np.testing.assert_allclose(ours[..., 2], sc, atol=1e-4)
    np.testing.assert_allclose(ours[..., :2], kp, atol=1e-2)


@pytest.mark.parametrize("backend,weights", [("mmpose", DEMO_WEIGHTS), ("onnx", DEMO_ONNX)])
def test_stage_writes_133_keypoints_per_person(models, image, backend, weights):
    cfg = PoseConfig(backend=backend, arch="tiny", weights=weights, flip_test=True)
    stage = PoseStage(cfg, models_dir=str(models))
    stage.ensure_setup()
    samples = []
    for i, boxes in enumerate([BOXES[:2], BOXES[2:]]):
        s = Sample(key=f"k{i}", task_id="t", source={}, image=image, width=400, height=300)
        s.persons = [{"box": b.tolist(), "score": 0.9, "area_frac": 0.2} for b in boxes]
        samples.append(s)
    stage.process(samples)
    for s in samples:
        for p in s.persons:
            kps = np.array(p["keypoints"])
            assert kps.shape == (133, 3)
            x0, y0, x1, y1 = p["box"]
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            # half the widest crop window, plus a heatmap pixel: a channel whose max is <= 0 decodes to index -1
            reach = 1.25 * max(x1 - x0, y1 - y0) / 0.75 / 2 * (1 + 2 / 48) + 1
            assert (np.abs(kps[:, 0] - cx) <= reach).all() and (np.abs(kps[:, 1] - cy) <= reach).all()
        assert s.info["models"]["pose"].startswith(f"tiny-wholebody ({backend}) sha256:")
    assert stage.model_ids()["pose"] == samples[0].info["models"]["pose"]


def test_missing_weights_name_the_file(tmp_path):
    stage = PoseStage(PoseConfig(backend="onnx", arch="tiny", weights="vitpose/nope.onnx"), models_dir=str(tmp_path))
    with pytest.raises(MissingModelFiles, match="nope.onnx"):
        stage.ensure_setup()
