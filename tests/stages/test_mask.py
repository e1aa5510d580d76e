"""The mask stage with MediaPipe's trained selfie segmentation: mask.png is an 8-bit person mask in the
original image's pixels, recorded in the json, also after outpainting; off unless configured."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from humanverse import config as cfgmod
from humanverse.accuracy import ground_truth
from humanverse.stages.mask import MaskConfig, MaskStage
from humanverse.imaging.outpaint_canvas import make_canvas, pad_to_canvas
from humanverse.stages.outpaint_restore import OutpaintRestoreStage
from humanverse.stages.outpaint_state import OutpaintState
from humanverse.stages.outpaint import OutpaintConfig
from humanverse.core.sample import Sample
from humanverse.shards.encoding import decode_mask8

PHOTO = "mpii_004645041.jpg"  # one man, 90% of the frame's height, beside a truck


@pytest.fixture(scope="module")
def photo():
    if not ground_truth.people_dir_or_none():
        pytest.skip("needs ../shared/realdata/people")
    image = ground_truth.load(names=[PHOTO])[0]
    with Image.open(image.path) as im:
        return image, np.asarray(im.convert("RGB"))


@pytest.fixture(scope="module")
def stage():
    s = MaskStage(MaskConfig())
    s.setup()
    return s


def _sample(rgb):
    s = Sample(key="000000000", task_id="t", source={})
    s.image = rgb
    s.height, s.width = rgb.shape[:2]
    return s


def _inside_and_outside(mask: np.ndarray, box) -> tuple[float, float]:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    cx0, cx1 = x0 + (x1 - x0) // 3, x1 - (x1 - x0) // 3  # the torso column of the person's box
    inside = mask[y0 + (y1 - y0) // 4 : y1 - (y1 - y0) // 4, cx0:cx1].mean()
    outside = np.concatenate([mask[:, : max(1, x0 - 40)].ravel(), mask[:, min(mask.shape[1] - 1, x1 + 40) :].ravel()]).mean()
    return float(inside), float(outside)


def test_mask_is_8bit_in_original_pixels_and_covers_the_person(stage, photo):
    image, rgb = photo
    sample = _sample(rgb)
    stage.process([sample])
    png = sample.members["mask.png"]
    with Image.open(io.BytesIO(png)) as im:
        assert im.mode == "L" and im.size == (image.width, image.height)
    inside, outside = _inside_and_outside(decode_mask8(png), image.persons[0].box)
    assert inside > 0.6 and outside < 0.2, (inside, outside)
    assert sample.info["mask"]["member"] == "mask.png" and sample.info["mask"]["backend"] == "mediapipe_selfie"
    assert sample.info["models"]["mask"].startswith("mediapipe-0.10.21-selfie-segmentation sha256:")


def test_outpainted_mask_is_cropped_back_to_the_original_frame(stage, photo):
    image, rgb = photo
    canvas = make_canvas(image.width, image.height, 0.25)
    sample = _sample(pad_to_canvas(rgb, canvas))
    sample.persons = [{"box": list(image.persons[0].box)}]
    sample.canvas = OutpaintState(original=rgb, canvas=canvas, boxes=[list(image.persons[0].box)])
    stage.process([sample])
    assert "mask.png" not in sample.members  # stashed on the canvas until restore
    OutpaintRestoreStage(OutpaintConfig()).restore(sample)
    mask = decode_mask8(sample.members["mask.png"])
    assert mask.shape == (image.height, image.width)
    inside, outside = _inside_and_outside(mask, image.persons[0].box)
    assert inside > 0.6 and outside < 0.2, (inside, outside)


def test_mask_is_off_in_the_humanverse_preset_and_on_in_the_demo():
    assert cfgmod.resolve("humanverse", None, []).mask is None
    assert cfgmod.resolve("demo", None, []).mask.backend == "mediapipe_selfie"
    assert cfgmod.resolve("humanverse", None, ["mask={}"]).mask == MaskConfig()


def test_sapiens_backend_mattes_the_person_boxes_into_mask_png(tmp_path):
    """mask.backend: sapiens (Sapiens2 matting, tiny random weights here): the stage hands the person boxes to
    the backend, so mask.png is 0 outside their padded union; the model id names the matting folder."""
    from humanverse.models.sapiens.loader import DEMO_INPUT_SIZE, build_weights
    from humanverse.models.sapiens.matting import region_of

    build_weights(tmp_path / "matting", "matting", "sapiens2-tiny", DEMO_INPUT_SIZE)
    stage = MaskStage(MaskConfig(backend="sapiens", sapiens_weights="matting"), models_dir=str(tmp_path))
    stage.check_models()
    stage.setup()
    rgb = np.random.default_rng(0).integers(0, 255, (300, 400, 3), dtype=np.uint8)
    box = [50.0, 40.0, 150.0, 290.0]
    sample = _sample(rgb)
    sample.persons = [{"box": box}]
    stage.process([sample])
    with Image.open(io.BytesIO(sample.members["mask.png"])) as im:
        assert im.mode == "L" and im.size == (400, 300)
    mask = decode_mask8(sample.members["mask.png"])
    x0, y0, x1, y1 = region_of(np.array([box]), 400, 300)
    assert mask[:, x1:].max() == 0 and mask[y0:y1, x0:x1].max() > 0
    assert sample.info["mask"]["backend"] == "sapiens"
    assert sample.info["models"]["mask"].startswith("sapiens2-matting sha256:")


def test_sapiens_backend_names_its_missing_folder(tmp_path):
    from humanverse.core.model_check import MissingModelFiles

    with pytest.raises(MissingModelFiles, match="nowhere"):
        MaskStage(MaskConfig(backend="sapiens", sapiens_weights="nowhere"), models_dir=str(tmp_path)).check_models()
