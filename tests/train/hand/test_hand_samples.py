"""Hands read from contract shards: the crop, mask and skeleton line up; bad or missing hands are counted."""

import json
import random

import numpy as np
import pytest
import webdataset as wds

from humanverse.train.common.shard_data import SkipSample
from humanverse.train.hand.config import HandDataConfig
from humanverse.train.hand.hand_data import BadHands, mask_from_keypoints, read_hands
from humanverse.train.hand.hand_samples import decode_body_with_hands, decode_hand_crop
from humanverse.train.hand.hand_geometry import crop_hand_keypoints, square_box


def _raw_samples(paths):
    return list(wds.DataPipeline(wds.SimpleShardList(paths), wds.tarfile_to_samples()))


def test_hand_crop_mask_and_skeleton_agree(hand_shards):
    cfg = HandDataConfig(resolution=32, min_hand_side=4)
    raws = _raw_samples(hand_shards)
    assert "hand_mask.png" in raws[0] and "hand_mask.png" not in raws[1]
    for raw in raws[:3]:
        sample = decode_hand_crop(raw, cfg, random.Random(0))
        assert sample["image"].shape == (3, 32, 32) and sample["mask"].shape == (1, 32, 32)
        assert sample["caption"] in ("a photo of a left hand", "a photo of a right hand")
        side = sample["caption"].split()[-2]
        hand = next(h for h in read_hands(json.loads(raw["json"])) if h.side == side)
        points = crop_hand_keypoints(hand.keypoints, square_box(*hand.box), 32)
        skeleton = sample["pose"].numpy().max(axis=0)
        mask = sample["mask"][0].numpy()
        for x, y, _ in points:
            assert skeleton[int(round(y)), int(round(x))] > 0  # each keypoint is drawn where it is
            assert mask[int(round(y)), int(round(x))] > 0.5  # and lies inside the hand mask
        if "hand_mask.png" in raw:  # the member (here the hand's box) fills the square crop
            assert mask.mean() > 0.9
        else:  # the keypoint-drawn fallback: the hand, not its whole box
            assert 0.05 < mask.mean() < 0.9


def test_body_sample_keeps_exactly_the_hand_pixels(hand_shards):
    cfg = HandDataConfig(resolution=64, min_hand_side=4, crop_scale=(1.0, 1.0))
    raw = _raw_samples(hand_shards)[0]  # 64 x 64 with a box-shaped hand_mask member
    sample = decode_body_with_hands(raw, cfg, random.Random(0))
    keep = sample["keep"][0].numpy().astype(bool)
    expected = np.zeros((64, 64), bool)
    for hand in read_hands(json.loads(raw["json"])):
        x0, y0, x1, y1 = (int(round(v)) for v in hand.box)
        expected[y0:y1 + 1, x0:x1 + 1] = True
    assert np.array_equal(keep, expected)
    assert sample["pose"].shape == (3, 64, 64) and sample["pose"].max() > 0


def test_samples_without_usable_hands_are_skipped_with_a_reason(hand_shards):
    cfg = HandDataConfig(resolution=32, min_hand_side=4)
    raw = _raw_samples(hand_shards)[3]  # lists no hands
    for decode in (decode_hand_crop, decode_body_with_hands):
        with pytest.raises(SkipSample, match="no_hands"):
            decode(raw, cfg, random.Random(0))
    tiny = HandDataConfig(resolution=32, min_hand_side=1000)
    with pytest.raises(SkipSample, match="no_hands"):
        decode_hand_crop(_raw_samples(hand_shards)[0], tiny, random.Random(0))
    broken = dict(_raw_samples(hand_shards)[0])
    meta = json.loads(broken["json"])
    meta["persons"][0]["hands"][0]["keypoints"] = [[0, 0, 1]] * 20
    broken["json"] = json.dumps(meta).encode()
    with pytest.raises(SkipSample, match="bad_hands"):
        decode_hand_crop(broken, cfg, random.Random(0))
    with pytest.raises(BadHands):
        read_hands({"persons": [{"hands": [{"side": "middle"}]}]})


def test_keypoint_mask_fallback_covers_the_hand_and_not_far_beyond():
    from tests.train.hand.hand_shards import contract_hand, hand_keypoints

    points = hand_keypoints(np.array([30.0, 30.0]), direction=0.0, span=20.0)
    hand = read_hands({"persons": [{"hands": [contract_hand("left", points, 64, 64)]}]})[0]
    mask = mask_from_keypoints([hand], 64, 64, score_threshold=0.3, dilation=0.1)
    for x, y, _ in points:
        assert mask[int(round(y)), int(round(x))]
    assert not mask[:, :25].any() and not mask[:, 56:].any()
