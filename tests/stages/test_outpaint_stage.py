"""OutpaintStage end to end on a tiny SD-inpainting pipeline saved in the published layout and loaded offline."""

import io
import pickle

import numpy as np
import pytest
from PIL import Image

from humanverse.imaging.outpaint_canvas import make_canvas, pad_to_canvas
from humanverse.stages.outpaint_restore import OutpaintRestoreStage
from humanverse.stages.outpaint import OutpaintConfig, OutpaintStage
from humanverse.stages.outpaint_state import stash_map
from humanverse.models.inpaint.sd_inpaint import (
    SCHEDULERS,
    SdInpainter,
    build_demo_weights,
    seed_for_key,
    use_scheduler,
)
from humanverse.core.sample import Sample
from tests.support.laion_input import ultralytics_assets

W, H = 96, 54  # zidane.jpg (two men cut at the waist by the bottom border), scaled down


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return build_demo_weights(tmp_path_factory.mktemp("models") / "tiny-sd-inpaint")


@pytest.fixture(scope="module")
def stage(weights):
    s = OutpaintStage(OutpaintConfig(mode="auto", model=str(weights), steps=2, scheduler="ddim"))
    s.setup()
    return s


@pytest.fixture(scope="module")
def jpeg():
    with Image.open(ultralytics_assets() / "zidane.jpg") as im:
        buf = io.BytesIO()
        im.convert("RGB").resize((W, H), Image.BICUBIC).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="module")
def photo(jpeg):
    """Exactly the pixels of {key}.jpg, as the decode stage leaves them."""
    with Image.open(io.BytesIO(jpeg)) as im:
        return np.asarray(im.convert("RGB"))


def sample(photo, key="zidane", boxes=((10.0, 5.0, 45.0, 54.0), (55.0, 3.0, 90.0, 54.0)), jpeg=None):
    s = Sample(key=key, task_id="t", source={}, caption="two men in suits", width=W, height=H)
    if jpeg is None:
        s.image = photo.copy()
    else:
        s.set_decoded(jpeg, photo.copy())
    s.persons = [{"box": list(b), "score": 0.9, "area_frac": 0.3} for b in boxes]
    return s


def test_tiny_pipeline_loads_through_the_production_path(stage, weights):
    assert stage._inpainter.resolution == 64  # UNet sample_size 8 x VAE factor 8
    assert stage.model_ids()["outpaint"].startswith("tiny-sd-inpaint sha256:")
    assert type(stage._inpainter.pipe.scheduler).__name__ == "DDIMScheduler"


def test_truncated_sample_is_outpainted_at_the_bottom_with_original_pixels_intact(stage, photo):
    s = sample(photo)
    stage.process([s])
    canvas = make_canvas(W, H, 0.25, sides=("bottom",))  # 54 + 14 = 68 -> 72 rows
    assert s.image.shape == (72, W, 3) and (canvas.canvas_height, canvas.canvas_width) == (72, W)
    np.testing.assert_array_equal(s.image[:H], photo)
    assert not np.array_equal(s.image[H:], pad_to_canvas(photo, canvas)[H:])
    assert s.canvas.original is not None and s.canvas.boxes[0] == [10.0, 5.0, 45.0, 54.0]
    assert [p["box"] for p in s.persons] == [[10.0, 5.0, 45.0, 72.0], [55.0, 3.0, 90.0, 72.0]]
    info = s.info["outpaint"]
    assert info["applied"] is True and info["reason"] == "truncated:bottom"
    assert info["canvas_box"] == [0, 0, W, 72] and info["sides"] == ["bottom"]
    assert info["seed"] == seed_for_key("zidane") and info["steps"] == 2 and info["ratio"] == 0.25
    assert info["model"] == stage.model_ids()["outpaint"] == s.info["models"]["outpaint"]
    assert info["prompt"] == "two men in suits" and info["model_size"] == [64, 48]


def test_whole_persons_are_not_outpainted(stage, photo):
    s = sample(photo, boxes=((10.0, 5.0, 45.0, 40.0),))
    stage.process([s])
    assert s.info["outpaint"] == {"applied": False, "reason": "not_truncated"}
    assert s.canvas is None and s.image.shape == (H, W, 3)


def test_same_key_same_pixels_other_key_other_pixels(stage, photo):
    a, again, other = sample(photo), sample(photo), sample(photo, key="someone-else")
    stage.process([a])
    stage.process([again])
    stage.process([other])
    np.testing.assert_array_equal(a.image, again.image)
    assert np.abs(a.image[H:].astype(int) - other.image[H:].astype(int)).mean() > 5


def test_a_sample_gets_its_own_noise_whatever_it_is_batched_with(stage, photo):
    alone, together, neighbour = sample(photo), sample(photo), sample(photo, key="someone-else")
    stage.process([alone])
    stage.process([neighbour, together])
    diff = np.abs(alone.image.astype(int) - together.image.astype(int))
    assert diff.max() <= 2, "only float rounding of batched kernels may differ"


def test_annotate_on_canvas_then_restore(stage, photo, jpeg):
    """The wiring the annotators follow: read the canvas, stash canvas maps, restore maps labels back."""
    s = sample(photo, jpeg=jpeg)
    stage.process([s])
    assert s.canvas.original is None, "the original travels as {key}.jpg only"
    s = pickle.loads(pickle.dumps(s))  # a hop between actors
    assert s.image.shape == (72, W, 3)
    ch, cw = s.image.shape[:2]
    depth = np.tile(np.arange(ch, dtype=np.float32)[:, None], (1, cw))  # grows downward, into the new area
    assert stash_map(s, "depth", depth)
    for person in s.persons:
        person["keypoints"] = [[30.0, 70.0, 0.6]] + [[30.0, 20.0, 0.9]] * 132  # an ankle on the outpainted floor
    OutpaintRestoreStage(OutpaintConfig(write_canvas=True)).process([s])
    np.testing.assert_array_equal(s.image, photo)
    assert s.__getstate__()["_pixels"] is None, "restored pixels are {key}.jpg's again, not shipped"
    assert s.info["depth"]["min"] == 0.0 and s.info["depth"]["max"] == H - 1
    assert s.persons[0]["box"] == [10.0, 5.0, 45.0, 54.0]
    assert s.persons[0]["keypoints"][0] == [30.0, 70.0, 0.6] and s.persons[0]["keypoints_outside"][0] is True
    assert "outpaint.jpg" in s.members


def test_mode_never_needs_no_weights():
    s = OutpaintStage(OutpaintConfig(mode="never", model="/nonexistent"))
    s.setup()
    assert s.model_ids() == {}
    x = Sample(key="k", task_id="t", source={}, width=8, height=8)
    x.image = np.zeros((8, 8, 3), np.uint8)
    x.persons = [{"box": [0, 0, 8, 8]}]
    s.process([x])
    assert x.info["outpaint"] == {"applied": False, "reason": "mode_never"}


@pytest.mark.parametrize("bad", [{"prompt_template": "{caption} by {artist}"}, {"ratio": 0}, {"colour": 1}])
def test_config_refuses_bad_values(bad):
    with pytest.raises(ValueError):
        OutpaintConfig(**bad)


@pytest.mark.parametrize("name", sorted(SCHEDULERS))
def test_every_configurable_scheduler_runs(stage, photo, name):
    from diffusers import StableDiffusionInpaintPipeline

    inpainter = SdInpainter(StableDiffusionInpaintPipeline(**stage._inpainter.pipe.components))
    use_scheduler(inpainter.pipe, name)
    assert type(inpainter.pipe.scheduler).__name__ == SCHEDULERS[name]
    canvas = make_canvas(W, H, 0.25, sides=("bottom",))
    mask = np.zeros((72, W), dtype=bool)
    mask[H:] = True
    (out,) = inpainter.outpaint([pad_to_canvas(photo, canvas)], [mask], ["a man"], [1], 2, 7.5)
    assert out.shape == (72, W, 3) and out.dtype == np.uint8
