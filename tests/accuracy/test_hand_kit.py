"""The hands stage with hands.refine (the demo's) on the kit's real hands, the whole kit as bench/HANDS.md
measures it: a regression below the figures reached there fails."""

import pytest

from humanverse.accuracy import hand_kit, pipeline_run
from humanverse.config import resolve
from tests.support.realdata import kit_folder


@pytest.mark.slow  # Holistic on 17 crops, the loopback pipeline on 2 frames, the refinement: ~1-2 min
def test_refined_hands_on_the_kit_hold_the_measured_figures(tmp_path):
    kit_folder("hands")
    photos = hand_kit.load()
    crops = hand_kit.crop_predictions(resolve("demo", None, ["hands.refine=true"]), photos)
    frames = hand_kit.frame_predictions(resolve("demo", None, pipeline_run.RELAXED + pipeline_run.POSE_ONLY + [
        "input.rows_per_task=64", "hands.refine=true"]), photos, tmp_path / "frames")
    result = hand_kit.score(photos, crops | frames)
    large, every = result["rows"]["all, >= 60 px"], result["rows"]["all"]
    assert large["found"] >= 0.93 and large["pck"] >= 0.83 and large["side"] >= 0.88, large
    assert every["found"] >= 0.94 and every["side"] >= 0.92, every
    for photo, row, sides in result["per_photo"]:  # no found hand on the wrong side
        if row["sided"]:
            assert row["side"] == row["found"], (photo.name, sides)
    assert every["extra"] <= 1, every  # hands matched to no GT hand
