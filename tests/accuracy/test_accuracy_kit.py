"""The accuracy kit: dataset keypoint definitions (checked against mmpose's own metainfo), the GT loader on
the shared photos, and the metrics (box matching, PCK, OKS, COCOeval AP)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from humanverse.accuracy import ground_truth, metrics
from humanverse.accuracy.keypoint_defs import COCO17, DEFINITIONS

MMPOSE_DATASETS = {"ochuman": "ochuman", "humanart": "humanart", "posetrack18": "posetrack18", "crowdpose": "crowdpose",
                   "aic": "aic", "mpii": "mpii", "mhp": "mhp", "coco": "coco"}


def _mmpose_names(dataset: str) -> list[str] | None:
    spec = importlib.util.find_spec("mmpose")
    if spec is None:
        return None
    path = Path(spec.submodule_search_locations[0]) / ".mim" / "configs" / "_base_" / "datasets" / f"{dataset}.py"
    if not path.exists():
        return None
    scope: dict = {}
    exec(path.read_text(), scope)  # a plain dict literal in mmpose's repo (trusted, installed package)
    info = scope["dataset_info"]["keypoint_info"]
    return [info[i]["name"] for i in sorted(info)]


@pytest.mark.parametrize("ours, theirs", sorted(MMPOSE_DATASETS.items()))
def test_joint_orders_match_mmpose_metainfo(ours, theirs):
    names = _mmpose_names(theirs)
    if names is None:
        pytest.skip("mmpose's dataset metainfo is not installed")
    assert list(DEFINITIONS[ours].names) == names


def test_comparable_joints_map_by_name():
    aic = DEFINITIONS["aic"].to_wholebody()
    assert aic[0] == COCO17.index("right_shoulder") and aic[3] == COCO17.index("left_shoulder")
    assert aic[12] is None and aic[13] is None  # head top, neck
    mpii = DEFINITIONS["mpii"].to_wholebody()
    assert mpii[0] == COCO17.index("right_ankle") and mpii[15] == COCO17.index("left_wrist") and mpii[9] is None


def test_box_matching_is_one_to_one_and_greedy():
    gt = [[0, 0, 10, 10], [20, 0, 30, 10]]
    pred = [[21, 0, 31, 10], [0, 0, 10, 9], [0, 0, 10, 10]]
    assert sorted(metrics.match_boxes(gt, pred, 0.5)) == [(0, 2), (1, 0)]
    assert metrics.match_boxes(gt, [[100, 100, 110, 110]], 0.5) == []


def _person(n_labelled: int = 17) -> ground_truth.GTPerson:
    kp = np.zeros((133, 3), dtype=np.float32)
    kp[:n_labelled, :2] = np.stack([np.linspace(10, 90, n_labelled), np.linspace(10, 190, n_labelled)], 1)
    kp[:n_labelled, 2] = 2
    return ground_truth.GTPerson([0, 0, 100, 200], kp, area=100 * 200)


def test_pck_counts_missing_points_as_misses_and_uses_the_long_side():
    person = _person()
    pred = person.keypoints.copy()
    pred[:, 2] = 1.0
    pred[0, :2] += 39  # 55 px off: beyond 0.2 x 200 = 40
    pred[1, :2] += 20  # 28 px: within
    pred[2, 2] = 0.0  # not given by the model
    assert metrics.pck_counts(pred, person)["body"] == (15, 17)


def test_oks_ap_is_1_for_perfect_keypoints_and_drops_with_error():
    persons = [_person()]
    perfect = persons[0].keypoints.copy()
    perfect[:, 2] = 1.0
    assert metrics.oks_ap([(1, persons, [perfect], [1.0])]) == pytest.approx(1.0)
    off = perfect.copy()
    off[:17, :2] += 15
    assert metrics.oks_ap([(1, persons, [off], [1.0])]) < 0.8
    assert metrics.oks_ap([(1, persons, [], [])]) == 0.0


@pytest.mark.skipif(not ground_truth.people_dir_or_none(), reason="needs ../shared/realdata/people")
def test_ground_truth_of_the_shared_photos():
    images = {im.name: im for im in ground_truth.load()}
    assert len(images) == 23 and sum(len(i.persons) for i in images.values()) == 61
    coco = images["coco_000000000785.jpg"]
    assert coco.dataset == "coco_wholebody" and coco.exhaustive
    assert coco.persons[0].box == pytest.approx([280.79, 44.73, 499.49, 391.41], abs=0.05)
    assert (coco.persons[0].keypoints[23:91, 2] > 0).sum() == 68  # face labelled
    assert not images["ochuman_000817.jpg"].exhaustive
    mpii = images["mpii_004645041.jpg"].persons[0]
    assert 500 < mpii.box[3] - mpii.box[1] < 800  # ~650 px tall per the manifest
    assert "atrw_000061.jpg" in ground_truth.people_free()
