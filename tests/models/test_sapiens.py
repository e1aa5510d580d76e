"""Sapiens2 annotators: tiny random models saved in the published HF layout and loaded by the production code;
the Goliath -> COCO-WholeBody map on known indices; UDP geometry against transformers' own Sapiens2 processor."""

import io

import numpy as np
import pytest
import torch
from PIL import Image

from humanverse.models.sapiens.goliath_keypoints import (
    COCO_WHOLEBODY_FROM_GOLIATH,
    COCO_WHOLEBODY_NAMES,
    GOLIATH_308,
    GOLIATH_FLIP_INDICES,
    goliath_to_coco_wholebody,
)
from humanverse.models.pose.pose_decode import COCO_WHOLEBODY_FLIP_INDICES, box_center_scale
from humanverse.models.pose.pose_topdown import estimate_poses
from humanverse.models.pose.pose_udp import crop_persons_udp, decode_heatmaps_udp
from humanverse.models.sapiens.loader import DEMO_INPUT_SIZE, build_weights, load_sapiens
from humanverse.models.files import MissingModelFiles
from humanverse.core.sample import Sample

SIZE = DEMO_INPUT_SIZE  # (256, 192): tiny models, heatmaps 64 x 48


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("sapiens")
    for i, task in enumerate(("pose", "pointmap", "normal", "seg", "matting")):
        build_weights(root / task, task, "sapiens2-tiny", SIZE, seed=i)
    return root


@pytest.fixture(scope="module")
def image():
    return np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)


BOXES = np.array([[50, 40, 150, 290], [180, 100, 390, 200], [-20, 0, 80, 120]], dtype=np.float32)


# --- keypoint names and mapping -------------------------------------------------------------------------

def test_goliath_names_and_flip_are_consistent():
    assert len(GOLIATH_308) == 308 == len(set(GOLIATH_308)) == len(GOLIATH_FLIP_INDICES)
    flip = np.array(GOLIATH_FLIP_INDICES)
    assert (flip[flip] == np.arange(308)).all()  # an involution
    g = GOLIATH_308.index
    assert flip[g("left_eye")] == g("right_eye") and flip[g("nose")] == g("nose") and flip[g("neck")] == g("neck")
    assert flip[g("l_center_of_iris")] == g("r_center_of_iris")
    assert flip[g("upper_midpoint_2_of_r_eyebrow")] == g("upper_midpoint_3_of_l_eyebrow")  # Meta's mirrored numbering


@pytest.mark.parametrize("coco,goliath", [
    (0, "nose"), (9, "left_wrist"), (16, "right_ankle"), (17, "left_big_toe"), (22, "right_heel"),
    (23 + 8, "tip_of_chin"), (23 + 30, "tip_of_nose"), (23 + 36, "r_outer_end_of_upper_eyelid_line"),
    (23 + 45, "l_outer_end_of_upper_eyelid_line"), (23 + 48, "r_outer_corner_of_mouth"),
    (91, "left_wrist"), (92, "left_thumb_third_joint"), (95, "left_thumb4"), (96, "left_forefinger_third_joint"),
    (111, "left_pinky_finger4"), (112, "right_wrist"), (132, "right_pinky_finger4"),
])
def test_known_indices_map(coco, goliath):
    assert COCO_WHOLEBODY_FROM_GOLIATH[coco] == goliath
    kp = np.zeros((308, 3), np.float32)
    kp[:, 0] = np.arange(308)
    kp[:, 2] = 1
    out = goliath_to_coco_wholebody(kp)
    assert out.shape == (133, 3) and out[coco, 0] == GOLIATH_308.index(goliath) and out[coco, 2] == 1


def test_points_without_counterpart_are_zero_and_counted():
    assert len(COCO_WHOLEBODY_FROM_GOLIATH) == 83  # 53 by Meta's exact names + 12 hand + 18 face
    unmapped = sorted(set(range(133)) - set(COCO_WHOLEBODY_FROM_GOLIATH))
    assert len(unmapped) == 50 and all(23 <= i < 91 for i in unmapped)  # only face points lack one
    out = goliath_to_coco_wholebody(np.ones((2, 308, 3), np.float32))
    assert (out[:, unmapped] == 0).all() and (out[:, list(COCO_WHOLEBODY_FROM_GOLIATH), 2] == 1).all()
    with pytest.raises(ValueError, match="308"):
        goliath_to_coco_wholebody(np.ones((133, 3)))


def test_mapping_respects_left_right():
    """Mirroring before or after the map gives the same 133 points (the map commutes with both flips)."""
    rng = np.random.default_rng(1)
    kp = rng.random((308, 3)).astype(np.float32)
    a = goliath_to_coco_wholebody(kp)[list(COCO_WHOLEBODY_FLIP_INDICES)]
    b = goliath_to_coco_wholebody(kp[list(GOLIATH_FLIP_INDICES)])
    mapped = [COCO_WHOLEBODY_FLIP_INDICES[i] for i in COCO_WHOLEBODY_FROM_GOLIATH]
    np.testing.assert_array_equal(a[mapped], b[mapped])
    assert COCO_WHOLEBODY_NAMES[91] == "left_hand_root"


# --- loading ----------------------------------------------------------------------------------------------

def test_published_layout_loads_through_the_one_path(models):
    assert {p.name for p in (models / "pose").iterdir()} >= {"config.json", "model.safetensors", "preprocessor_config.json"}
    model, processor = load_sapiens("pose", models / "pose")
    assert type(model).__name__ == "Sapiens2ForPoseEstimation" and model.config.num_labels == 308
    assert processor.size["height"] == SIZE[0]
    with pytest.raises(ValueError, match="Sapiens2ForPoseEstimation"):
        load_sapiens("pose", models / "normal")  # a normal checkpoint is not a pose model
    with pytest.raises(MissingModelFiles):
        load_sapiens("pose", models / "nowhere")


# --- pose geometry ----------------------------------------------------------------------------------------

def test_udp_crop_and_decode_match_transformers_reference(image):
    """Our crop (cv2) and decode (UDP + DARK) against Sapiens2ImageProcessor's own, on the same boxes."""
    from transformers import Sapiens2ImageProcessor
    from transformers.models.sapiens2.modeling_sapiens2 import Sapiens2PoseEstimatorOutput

    proc = Sapiens2ImageProcessor(size={"height": SIZE[0], "width": SIZE[1]}, do_normalize=False, do_rescale=False)
    xywh = [[float(x0), float(y0), float(x1 - x0), float(y1 - y0)] for x0, y0, x1, y1 in BOXES]
    theirs = proc(image, boxes=[xywh], return_tensors="pt")["pixel_values"].numpy().transpose(0, 2, 3, 1)
    c, s = box_center_scale(BOXES, 1.25, SIZE)
    ours = crop_persons_udp(image, c, s, SIZE).astype(np.float32)
    assert np.abs(ours - theirs).mean() < 6.0  # same geometry; cv2 area/cubic vs grid_sample bilinear/bicubic
    shifted = np.abs(np.roll(ours, 3, axis=2) - theirs).mean()
    assert shifted > 2 * np.abs(ours - theirs).mean()  # and a 3-pixel misalignment would show

    heat = np.random.default_rng(2).random((3, 308, SIZE[0] // 4, SIZE[1] // 4)).astype(np.float32)
    ref = proc.post_process_pose_estimation(Sapiens2PoseEstimatorOutput(heatmaps=torch.from_numpy(heat)), boxes=[xywh])
    xy, sc = decode_heatmaps_udp(heat, c, s)
    np.testing.assert_allclose(xy, np.stack([p["keypoints"].numpy() for p in ref[0]]), atol=1e-3)
    np.testing.assert_allclose(sc, np.stack([p["scores"].numpy() for p in ref[0]]), atol=1e-6)


def _marker_heatmaps(crops_norm: np.ndarray) -> np.ndarray:
    """A stand-in model: every channel peaks at the centroid of the crop's bright pixels (a Gaussian on the
    heatmap grid, placed with UDP's crop-to-heatmap scale)."""
    n, _, h, w = crops_norm.shape
    hh, ww = h // 4, w // 4
    bright = crops_norm.sum(1)
    out = np.zeros((n, 308, hh, ww), np.float32)
    yy, xx = np.mgrid[0:hh, 0:ww]
    for i in range(n):
        ys, xs = np.nonzero(bright[i] >= 0.5 * bright[i].max() + 0.5 * bright[i].min())
        y, x = ys.mean(), xs.mean()
        u, v = x * (ww - 1) / (w - 1), y * (hh - 1) / (h - 1)  # UDP: ends of the grids coincide
        out[i] = np.exp(-((xx - u) ** 2 + (yy - v) ** 2) / 2.0)[None]
    return out


@pytest.mark.parametrize("flip", [False, True])
def test_keypoints_come_back_in_the_original_frame(flip):
    """A bright dot inside each person box is found at its original-image position, flip test or not
    (one image per box, so each crop holds only its own dot; the third box leaves the image)."""
    dots = [(100, 200), (300, 150), (30, 60)]
    images = []
    for x, y in dots:
        img = np.zeros((300, 400, 3), np.uint8)
        img[y - 2:y + 3, x - 2:x + 3] = 255
        images.append(img)
    kps = estimate_poses(images, [b[None] for b in BOXES], _marker_heatmaps, input_size=SIZE, flip_test=flip,
                         codec="udp", flip_indices=GOLIATH_FLIP_INDICES, batch_size=2)
    for (x, y), person in zip(dots, kps):
        assert person.shape == (1, 308, 3)
        err = np.abs(person[0, :, :2] - [x, y]).max()
        assert err < 1.0, err  # the MSRA map, or a half-pixel shift after the flip, is off by 1.3-2.9 px here


def test_pose_stage_sapiens_writes_133_and_308(models, image):
    from humanverse.stages.pose import PoseConfig, PoseStage

    cfg = PoseConfig(backend="sapiens", sapiens_arch="sapiens2-tiny", sapiens_weights=str(models / "pose"),
                     sapiens_input_size=SIZE, flip_test=True, crop_batch=2)
    stage = PoseStage(cfg)
    stage.ensure_setup()
    s = Sample(key="k", task_id="t", source={}, image=image, width=400, height=300)
    s.persons = [{"box": b.tolist(), "score": 0.9, "area_frac": 0.2} for b in BOXES]
    stage.process([s])
    unmapped = sorted(set(range(133)) - set(COCO_WHOLEBODY_FROM_GOLIATH))
    for p in s.persons:
        k133, k308 = np.array(p["keypoints"]), np.array(p["keypoints_goliath"])
        assert k133.shape == (133, 3) and k308.shape == (308, 3)
        assert (k133[unmapped] == 0).all()
        np.testing.assert_allclose(k133[9], k308[GOLIATH_308.index("left_wrist")])
    assert s.info["models"]["pose"].startswith("sapiens2-tiny-pose-308 sha256:")
    with pytest.raises(ValueError, match="input_size"):
        PoseStage(cfg.model_copy(update={"sapiens_input_size": (1024, 768)})).ensure_setup()


# --- dense heads ------------------------------------------------------------------------------------------

def _sample(image, key="k"):
    return Sample(key=key, task_id="t", source={}, image=image, width=image.shape[1], height=image.shape[0])


def test_depth_from_pointmap_meets_the_shard_contract(models, image):
    from humanverse.stages.depth import DepthConfig, DepthStage
    from humanverse.shards.encoding import decode_depth16

    cfg = DepthConfig(models=["sapiens"], primary="sapiens", sapiens_weights=str(models / "pointmap"),
                      sapiens_arch="sapiens2-tiny")
    stage = DepthStage(cfg)
    stage.ensure_setup()
    samples = [_sample(image), _sample(np.ascontiguousarray(image[:, :150]), "k2")]
    stage.process(samples)
    for s in samples:
        d = s.info["depth"]
        assert d["kind"] == "relative inverse depth" and d["member"] == "depth.png"
        assert d["z_min_m"] <= d["z_max_m"] and d["min"] <= d["max"]
        png = Image.open(io.BytesIO(s.members["depth.png"]))
        assert png.mode in ("I;16", "I") and png.size == (s.width, s.height)
        dec = decode_depth16(s.members["depth.png"])
        assert dec.min() == 0.0 and dec.max() == 1.0


def test_dense_geometry_comes_back_to_the_original_frame(models):
    """With a stand-in model whose pointmap is its own input, z is the letterboxed image's blue channel:
    the processor's pad, crop and resize must put every pixel back where it was."""
    from humanverse.models.sapiens.dense import SapiensDepth
    from transformers.models.sapiens2.modeling_sapiens2 import Sapiens2PointmapEstimatorOutput

    depth = SapiensDepth(models / "pointmap")
    depth.model = lambda pixel_values: Sapiens2PointmapEstimatorOutput(
        pointmaps=pixel_values + 10.0, scales=torch.ones(len(pixel_values), 1))
    yy, xx = np.mgrid[0:120, 0:300]
    img = np.zeros((120, 300, 3), np.uint8)
    img[..., 2] = (255 * (xx / 299)).astype(np.uint8)  # a horizontal ramp in blue, a wide (padded) image
    img[..., 1] = (255 * (yy / 119)).astype(np.uint8)
    z = 1.0 / depth([img])[0] - 10.0
    blue = (img[..., 2] / 255.0 - 0.406) / 0.225
    assert z.shape == (120, 300)
    assert np.corrcoef(z.ravel(), blue.ravel())[0, 1] > 0.99
    assert np.abs(z - blue).mean() < 0.1


def test_normals_are_unit_and_in_the_project_frame(models, image):
    from humanverse.stages.normal import NormalConfig, NormalStage
    from humanverse.models.sapiens.dense import sapiens_to_convention
    from humanverse.shards.encoding import NORMAL_CONVENTION, decode_normal

    n = np.array([[[0.2, 0.5, 0.8]]], np.float32)
    np.testing.assert_allclose(sapiens_to_convention(n, "opengl")[0, 0], n[0, 0] / np.linalg.norm(n), atol=1e-6)
    np.testing.assert_allclose(sapiens_to_convention(n, "opencv")[0, 0], [0.2, -0.5, -0.8] / np.linalg.norm(n), atol=1e-6)
    cfg = NormalConfig(backend="sapiens", sapiens_weights=str(models / "normal"), sapiens_arch="sapiens2-tiny")
    stage = NormalStage(cfg)
    stage.ensure_setup()
    s = _sample(image)
    stage.process([s])
    assert s.info["normal"]["convention"] == NORMAL_CONVENTION
    dec = decode_normal(s.members["normal.png"])
    assert dec.shape == (300, 400, 3)
    assert np.abs(np.linalg.norm(dec, axis=-1) - 1).max() < 0.02


def test_parts_stage_writes_class_ids_and_hand_classes(models, image):
    from humanverse.stages.parts import SEG_CLASSES, PartsConfig, PartsStage, decode_classes

    assert len(SEG_CLASSES) == 29 and SEG_CLASSES[6] == "Left_Hand" and SEG_CLASSES[15] == "Right_Hand"
    stage = PartsStage(PartsConfig(weights=str(models / "seg"), arch="sapiens2-tiny"))
    stage.ensure_setup()
    s = _sample(image)
    stage.process([s])
    classes = decode_classes(s.members["parts.png"])
    assert classes.shape == (300, 400) and classes.dtype == np.uint8 and classes.max() < 29
    assert s.info["parts"]["hand_classes"] == {"left_hand": 6, "right_hand": 15}


def test_matting_gives_8bit_alpha_in_original_pixels(models, image):
    from humanverse.models.sapiens.matting import SapiensMatting, mask_backend, matte_persons, region_of

    assert region_of(np.array([[100, 100, 200, 300]]), 400, 300) == (87, 75, 213, 300)
    assert region_of(np.zeros((0, 4)), 400, 300) == (0, 0, 400, 300)
    m = SapiensMatting(models / "matting")
    alphas = matte_persons(m, [image, image], [BOXES[:1], np.zeros((0, 4))])
    assert all(a.shape == (300, 400) and a.dtype == np.uint8 for a in alphas)
    x0, y0, x1, y1 = region_of(BOXES[:1], 400, 300)
    assert alphas[0][:, x1:].max() == 0 and alphas[0][y0:y1, x0:x1].max() > 0
    probs = m([image])  # the mask stage's MaskPredictor contract: images -> [0, 1] maps
    assert probs[0].dtype == np.float32 and 0 <= probs[0].min() <= probs[0].max() <= 1
    label, files, factory = mask_backend(str(models / "matting"), device="cpu")
    assert label == "sapiens2-matting" and files[0].name == "config.json" and callable(factory)
