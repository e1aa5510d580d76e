import io
import json
import random

import numpy as np
import pytest
from PIL import Image

from humanverse.shards.encoding import encode_depth16, encode_normal
from humanverse.train.common.config import DataConfig
from humanverse.train.common.shard_data import SkipSample, SkipTally, decode_sample, make_dataloader
from tests.train.shard_factory import make_sample


def _aligned_sample(width=120, height=80):
    """A white square around a wrist keypoint; depth is a 16-bit horizontal ramp; normals point right."""
    image = np.zeros((height, width, 3), np.uint8)
    cx, cy = 70, 30
    image[cy - 6 : cy + 7, cx - 6 : cx + 7] = 255
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")  # lossless so the test can compare exactly
    kp = np.zeros((133, 3), np.float32)
    kp[9] = (cx + 0.5, cy + 0.5, 1.0)  # pixel centre of (cx, cy) in continuous coordinates
    ramp = np.tile(np.linspace(0, 1, width), (height, 1))
    normals = np.zeros((height, width, 3))
    normals[..., 0] = 1
    meta = {"width": width, "height": height, "persons": [{"keypoints": kp.tolist()}]}
    return {"__key__": "k", "jpg": buf.getvalue(), "txt": b"a person", "json": json.dumps(meta).encode(),
            "depth.png": encode_depth16(ramp)[0], "normal.png": encode_normal(normals)}


@pytest.mark.parametrize("seed", range(4))
def test_crop_keeps_image_maps_and_keypoints_aligned(seed):
    cfg = DataConfig(resolution=64, crop_scale=(0.3, 1.0), crop_ratio=(0.75, 1.33))
    out = decode_sample(_aligned_sample(), cfg, random.Random(seed))
    assert out["image"].shape == (3, 64, 64) and out["depth"].shape == (1, 64, 64)
    assert out["pose"].shape == (3, 64, 64) and out["normal"].shape == (3, 64, 64)
    dot = out["pose"].sum(0) > 0
    if dot.any():  # the wrist dot lands on the white square
        assert out["image"][:, dot].mean() > 0.5
    # depth ramp still increases left to right, with 16-bit resolution (more levels than 8 bits allow)
    row = out["depth"][0, 32]
    assert bool((row[1:] >= row[:-1] - 1e-6).all()) and row[-1] > row[0]
    eight_bit = out["depth"] * 255
    assert (eight_bit - eight_bit.round()).abs().max() > 0.05  # not squashed to 8-bit levels
    assert abs(out["normal"][0].mean().item() - 1.0) < 0.02
    assert out["caption"] == "a person"


@pytest.mark.parametrize("drop, reason", [("depth.png", "missing_depth"), ("normal.png", "missing_normal"),
                                          ("json", "missing_json"), ("persons", "no_persons")])
def test_samples_missing_annotations_are_skipped_with_a_reason(drop, reason):
    raw = make_sample(np.random.default_rng(0), "k", 32, 32, drop=drop)
    raw = {k: v.encode() if isinstance(v, str) and k != "__key__" else v for k, v in raw.items()}
    with pytest.raises(SkipSample, match=reason):
        decode_sample(raw, DataConfig(resolution=32), random.Random(0))


def test_stream_is_endless_and_counts_skips(shards):
    cfg = DataConfig(resolution=32, batch_size=4, num_workers=0, shuffle_buffer=4)
    tally = SkipTally()
    seen = set()
    for _, batch in zip(range(6), make_dataloader(shards, cfg, seed=0)):  # 24 samples from 8 in the shards
        assert batch["image"].shape == (4, 3, 32, 32)
        seen.update(batch["key"])
        tally.update(batch)
    assert tally.total > 0  # one in five samples is broken
    assert "s000004" not in seen  # the first broken sample (no depth) never reaches training
