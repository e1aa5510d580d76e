"""`humanverse sample --method hand-first` end to end on tiny random-weight runs: hands, canvas, blending."""

import json

import numpy as np
import pytest
from PIL import Image

from humanverse.train.sampling import cli as sample_cli
from tests.train.hand.hand_shards import person


@pytest.fixture
def pose_json(tmp_path):
    keypoints, hands = person(np.random.default_rng(3), 96, 64)
    path = tmp_path / "person.json"
    path.write_text(json.dumps({"width": 96, "height": 64, "persons": [{"keypoints": keypoints.tolist(),
                                                                       "hands": hands}]}))
    return path


def test_hand_first_writes_the_image_and_every_intermediate(trained_hand_runs, pose_json, tmp_path, capsys):
    out = tmp_path / "out"
    assert sample_cli.main(["--method", "hand-first", "--prompt", "a person waving", "--pose", str(pose_json),
                            "--hand", str(trained_hand_runs / "hand"), "--body", str(trained_hand_runs / "hand-body"),
                            "--output", str(out), "--steps", "5", "--stage1-steps", "1", "--stage1-guidance-scale",
                            "1", "--blend-erosion-per-step", "0.5", "--blend-stop", "0.6"]) == 0
    assert "2 hands" in capsys.readouterr().out
    record = json.loads((out / "sample.json").read_text())
    assert record["method"] == "hand-first" and [h["side"] for h in record["hands"]] == ["left", "right"]
    assert record["blend"]["stop_step"] == 3 and record["blend"]["radius"] == [0, 0, 1, 1, 2]
    assert record["blend"]["keep_latent_pixels"][3:] == [0, 0]
    with Image.open(out / "image.png") as im:
        assert im.size == (64, 64)  # the body model's resolution
    for index, side in enumerate(("left", "right")):
        for part in ("skeleton", "rgb", "mask"):
            with Image.open(out / "hands" / f"{index}_{side}_{part}.png") as im:
                assert im.size == (32, 32)  # the hand model's resolution
    canvas = np.asarray(Image.open(out / "canvas.png"))
    keep = np.asarray(Image.open(out / "canvas_mask.png")) > 0
    assert (canvas[~keep] == 128).all()  # grey wherever no hand was placed
    for hand in record["hands"]:  # the kept pixels lie inside the hands' boxes
        x0, y0, x1, y1 = hand["box"]
        keep[max(0, y0):y1, max(0, x0):x1] = False
    assert not keep.any()
    assert np.asarray(Image.open(out / "pose.png")).max() > 0


def test_method_flags_are_checked(trained_hand_runs, pose_json, tmp_path):
    with pytest.raises(SystemExit, match="--body"):
        sample_cli.main(["--method", "hand-first", "--prompt", "p", "--pose", str(pose_json),
                         "--hand", str(trained_hand_runs / "hand"), "--output", str(tmp_path / "o")])
    with pytest.raises(SystemExit, match="--refiner is required"):
        sample_cli.main(["--prompt", "p", "--output", str(tmp_path / "o")])  # hyperhuman stays the default
    with pytest.raises(ValueError, match="not a hand-body run"):
        sample_cli.main(["--method", "hand-first", "--prompt", "p", "--pose", str(pose_json), "--hand",
                         str(trained_hand_runs / "hand"), "--body", str(trained_hand_runs / "hand"),
                         "--output", str(tmp_path / "o")])
