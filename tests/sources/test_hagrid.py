"""`--input-format hagrid` on HaGRID's annotation format as its README prints it (tests/sources/data/
hagrid_readme_examples.json, transcribed from github.com/hukenovs/hagrid), in the README's folder layout, with
images generated here. Every entry is one row; bad entries and missing images are rows with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image

from humanverse.core.task import TaskSpec
from humanverse.sources.hagrid import HagridReader, caption_for, parse_entry
from humanverse.sources.inputs import reader_for

EXAMPLES = json.loads((Path(__file__).parent / "data" / "hagrid_readme_examples.json").read_text())
W, H = 192, 108  # HaGRID's FullHD frames, scaled down: only the normalised coordinates matter


def full_landmarks(shown: list[list[float]], seed: int) -> list[list[float]]:
    """The README's two shown points, then 19 generated within 0.05 of the first (the README elides them)."""
    rng = np.random.default_rng(seed)
    rest = np.asarray(shown[0]) + rng.uniform(-0.05, 0.05, size=(19, 2))
    return shown + rest.tolist()


def example_entry(version: str) -> dict:
    ex = EXAMPLES[version]
    entry = dict(ex["entry"])
    if "landmarks_shown" in ex:
        entry[ex["landmarks_field"]] = [full_landmarks(s, i) for i, s in enumerate(ex["landmarks_shown"])]
    return entry


def write_image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((H, W, 3), 128, np.uint8)).save(path)


@pytest.fixture
def hagrid_root(tmp_path) -> Path:
    """The README layout: hagrid_annotations/<split>/<gesture>.json beside hagrid_dataset/<gesture>/<id>.jpg."""
    root = tmp_path / "hagrid"
    ex = EXAMPLES["v2-1M"]
    good = ex["image_id"]
    entries = {
        good: example_entry("v2-1M"),
        "no-image-on-disk": example_entry("v2-1M"),
        "labels-short": {**example_entry("v2-1M"), "labels": ["thumb_index2"]},
        "not-an-object": [1, 2, 3],
        "../escape": example_entry("v2-1M"),
        "nul\u0000id": example_entry("v2-1M"),
        "long-label": {**example_entry("v2-1M"), "labels": ["x" * 65, "one"]},
        "nan-box": {**example_entry("v2-1M"), "bboxes": [[float("nan"), 0, 1, 1], [0, 0, 1, 1]]},
        "twenty-points": {**example_entry("v2-1M"), "hand_landmarks": [[[0.1, 0.1]] * 20, []]},
    }
    ann = root / "hagrid_annotations" / "train" / ex["gesture_file"]
    ann.parent.mkdir(parents=True)
    ann.write_text(json.dumps(entries))
    gesture = ex["gesture_file"][:-5]
    for image_id in (good, "labels-short", "nan-box", "twenty-points"):
        write_image(root / "hagrid_dataset" / gesture / f"{image_id}.jpg")
    return root


def read_all(path: Path) -> list:
    reader = reader_for("hagrid", {}, None)
    n = reader.count(str(path))
    return reader.read(TaskSpec("00000-00000", str(path), "hagrid", 0, n))


def test_v2_1m_rows_each_end_with_a_status_and_reason(hagrid_root):
    samples = read_all(hagrid_root / "hagrid_annotations" / "train" / "thumb_index2.json")
    by_id = {s.source["source_id"]: s for s in samples}
    assert len(samples) == 9 and len({s.key for s in samples}) == 9
    assert {i: (s.status, s.reason) for i, s in by_id.items() if not s.alive} == {
        "no-image-on-disk": ("error", "missing_image"),
        "labels-short": ("error", "bad_annotation:labels"),
        "not-an-object": ("error", "bad_annotation:entry"),
        "../escape": ("error", "bad_annotation:image_id"),
        "nul\u0000id": ("error", "bad_annotation:image_id"),
        "long-label": ("error", "bad_annotation:labels"),
        "nan-box": ("error", "bad_annotation:bboxes"),
        "twenty-points": ("error", "bad_annotation:hand_landmarks"),
    }
    ok = by_id[EXAMPLES["v2-1M"]["image_id"]]
    assert ok.alive and ok.image_bytes[:2] == b"\xff\xd8" and ok.source["dataset"] == "hagrid"
    info = ok.info["hagrid"]
    assert info["version"] == "v2-1M" and info["gesture"] == "thumb_index2"
    assert info["user_id"] == "2fe6a9156ff8ca27fbce8ada318c592b" and info["united_label"] == ["thumb_index2"]
    assert info["bboxes"][1] == [0.5993055556, 0.2875, 0.2569444444, 0.2760416667]
    assert info["meta"]["gender"] == ["female"]
    hands = ok.meta["hagrid_hands"]
    assert [h["label"] for h in hands] == ["thumb_index2", "thumb_index2"]
    assert hands[1]["landmarks"][0] == [0.37388438145820907, 0.47547576284667353] and len(hands[1]["landmarks"]) == 21
    assert ok.caption == caption_for("thumb_index2") == "a photo of a person showing the thumb index2 hand gesture"


def test_v1_leading_hand_and_images_beside_the_json(tmp_path):
    ex = EXAMPLES["v1"]
    entry = example_entry("v1")
    entry["landmarks"][0] = []  # the README: "auto markup" leaves empty landmark lists
    ann = tmp_path / "ann" / ex["gesture_file"]
    ann.parent.mkdir()
    ann.write_text(json.dumps({ex["image_id"]: entry}))
    write_image(tmp_path / "ann" / "one" / f"{ex['image_id']}.png")
    [s] = read_all(ann)
    assert s.alive and s.info["hagrid"]["version"] == "v1"
    assert s.info["hagrid"]["leading_hand"] == "left" and s.info["hagrid"]["leading_conf"] == 1.0
    assert [h["label"] for h in s.meta["hagrid_hands"]] == ["one"]  # the empty no_gesture hand is not listed


def test_v2_2023_rows_are_read_with_boxes_and_no_hands():
    info, hands = parse_entry(EXAMPLES["v2"]["image_id"], EXAMPLES["v2"]["entry"], "one")
    assert info["version"] == "v2" and info["labels"] == ["no_gesture", "one"] and hands == []


def test_a_file_that_is_not_an_object_of_ids_is_a_clear_error(tmp_path):
    bad = tmp_path / "call.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a HaGRID annotation file"):
        HagridReader().count(str(bad))


@pytest.mark.slow  # curate on the local engine with HOG + selfie segmentation: ~5-12 s on the 2-core machine
def test_hagrid_rows_curate_end_to_end_with_their_hands_on_a_real_photo(tmp_path):
    """A HaGRID-format row on a shared real photo (COCO's skiers, copied into tmp at run time, never into the
    repo) whose two hands are COCO-WholeBody's labelled right hand of the skier HOG finds and the left hand of
    one it misses: the first lands on the detected skier (as her right, by the frontal rule), the second is
    unassigned; the mask stage's real selfie mask gives hand_mask.png; the bad and missing rows are rows too."""
    import tarfile

    from humanverse import config as cfgmod
    from humanverse.accuracy import ground_truth
    from humanverse.engine.curate import curate
    from tests.support.laion_input import HOG_DETECT

    if not ground_truth.people_dir_or_none():
        pytest.skip("needs ../shared/realdata/people")
    gt = ground_truth.load(names=["coco_000000197388.jpg"])[0]
    size = np.array([gt.width, gt.height])
    found_right = gt.persons[2].keypoints[112:133, :2]  # the skier at the right edge: HOG's one box
    missed_left = gt.persons[0].keypoints[91:112, :2]  # the large skier HOG misses

    def box(points):
        (x0, y0), (x1, y1) = points.min(axis=0) / size, points.max(axis=0) / size
        return [x0, y0, x1 - x0, y1 - y0]

    entry = {"bboxes": [box(found_right), box(missed_left)], "labels": ["no_gesture", "no_gesture"],
             "united_bbox": None, "united_label": None, "user_id": "u1",
             "hand_landmarks": [(found_right / size).tolist(), (missed_left / size).tolist()]}
    root = tmp_path / "hagrid"
    ann = root / "hagrid_annotations" / "test" / "no_gesture.json"
    ann.parent.mkdir(parents=True)
    ann.write_text(json.dumps({"skiers": entry, "missing": entry, "bad": {"bboxes": "?"}}))
    (root / "hagrid_dataset" / "no_gesture").mkdir(parents=True)
    (root / "hagrid_dataset" / "no_gesture" / "skiers.jpg").write_bytes(gt.path.read_bytes())

    # HOG pinned (before pose=null, which drops its pose padding): the hands below are chosen by what HOG finds
    cfg = cfgmod.resolve("demo", None, [*HOG_DETECT, "input.format=hagrid", "outpaint.mode=never", "pose=null", "depth=null",
                                        "normal=null", "aesthetic.enabled=false", "nsfw.enabled=false",
                                        "person.min_area_frac=0.05", "hands.mask=person_mask"])
    out = tmp_path / "out"
    result = curate(cfg, [str(ann)], str(out), engine="local")
    rows = {r["source_id"]: r for r in pq.read_table(sorted((out / "shards").glob("*.parquet"))).to_pylist()}
    assert result.ok and len(rows) == 3
    assert (rows["missing"]["reason"], rows["bad"]["reason"]) == ("missing_image", "bad_annotation:bboxes")
    ok = rows["skiers"]
    assert ok["status"] == "ok" and ok["n_hands_visible"] == 1, ok
    assert ok["hand_quality_ok"] is False  # a ~20 px hand: below the 64 px rule
    with tarfile.open(sorted((out / "shards").glob("*.tar"))[0]) as tar:
        doc = json.load(tar.extractfile(f"{ok['key']}.json"))
        mask = np.asarray(Image.open(tar.extractfile(f"{ok['key']}.hand_mask.png")))
    [hand] = [h for p in doc["persons"] for h in p.get("hands", [])]
    assert (hand["source"], hand["side"], hand["side_from"]) == ("hagrid", "right", "frontal")
    assert doc["hands"] == {"source": "hagrid", "unassigned": 1}
    bx0, by0, bx1, by1 = hand["box"]
    assert bx1 - bx0 == pytest.approx(by1 - by0)
    assert bx0 <= found_right[:, 0].min() and found_right[:, 0].max() <= bx1
    assert doc["hagrid"]["version"] == "v2-1M" and doc["hand_mask"]["method"] == "person_mask"
    ys, xs = np.nonzero(mask == 255)
    assert mask.shape == (gt.height, gt.width)
    assert len(xs) == 0 or (xs.min() >= bx0 - 1 and xs.max() <= bx1 and ys.min() >= by0 - 1 and ys.max() <= by1)
