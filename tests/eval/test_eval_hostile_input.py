"""Issue 26, items 2, 6, 8 and 9 for `humanverse eval`: held-out keys never name a file outside --output,
bad samples are skipped and counted, held-out images are kept at most MAX_SIDE a side, and the Inception
weights are read once, with weights_only=True, and never again by torch-fidelity."""

from __future__ import annotations

import io
import json
import tarfile
from collections import Counter

import numpy as np
import torch
from PIL import Image

from humanverse.eval.heldout import MAX_SIDE, read_heldout
from humanverse.eval.image_features import build_random_inception, load_inception
from humanverse.sources.keys import check_key
from tests.support.hostile_run import GOOD_KEY, TASK, ZERO_WIDTH, write_hostile_run
from tests.train.shard_factory import make_sample


def test_heldout_keys_are_safe_and_bad_samples_counted(tmp_path):
    """Old code: the '../escape' and absolute-path keys came back as held-out keys (generated/{key}.png is
    then written outside --output, or an existing PNG read into index.html), and width 0 divided by zero."""
    run = write_hostile_run(tmp_path)
    skipped = Counter()
    items = read_heldout(str(run.out / "shards" / f"{TASK}.tar"), 10, skipped)
    assert [it.key for it in items] == [GOOD_KEY, ZERO_WIDTH, "00000000000004", "00000000000005"]
    assert all(check_key(it.key) for it in items)
    assert skipped == Counter(unsafe_member_name=10, bad_json=2)  # every member of the 2 unsafe names


def test_heldout_images_are_kept_small(tmp_path):
    """Old code kept the full-size photo of every held-out sample (5.3 GiB for 6 samples in the report)."""
    rng = np.random.default_rng(0)
    sample = make_sample(rng, "big", 48, 40)
    meta = json.loads(sample["json"])
    scale = 100
    for person in meta["persons"]:
        person["keypoints"] = [[x * scale, y * scale, s] for x, y, s in person["keypoints"]]
        person["box"] = [v * scale for v in person["box"]]
    meta.update(width=4800, height=4000)
    buf = io.BytesIO()
    Image.new("RGB", (4800, 4000), (90, 120, 150)).save(buf, format="JPEG")
    path = tmp_path / "big.tar"
    with tarfile.open(path, "w") as tar:
        for name, data in (("big.jpg", buf.getvalue()), ("big.json", json.dumps(meta).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (item,) = read_heldout(str(path), 1)
    assert item.image.shape == (MAX_SIDE, MAX_SIDE, 3)
    # the condition is the same as if it were framed from the full-size photo
    full_box = (4800 - 4000) // 2
    expected = (np.asarray(meta["persons"][0]["keypoints"], np.float32)[:, 0] - full_box + 0.5) * 512 / 4000 - 0.5
    assert np.allclose(item.condition(512).keypoints[0][:, 0], expected, atol=1e-2)


def test_inception_weights_are_read_once_and_never_unpickled(tmp_path, monkeypatch):
    """Old code checked the file with weights_only=True, then torch-fidelity loaded the PATH again with
    weights_only=False: a file swapped in between ran its pickle."""
    weights = build_random_inception(tmp_path / "inception.pth")
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return (marker.touch, ())

    real_load = torch.load
    calls = []

    def swapping_load(path, *args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        result = real_load(path, *args, **kwargs)
        if len(calls) == 1:  # the attacker swaps the file right after the check
            torch.save({"x": Payload()}, weights)
        return result

    monkeypatch.setattr(torch, "load", swapping_load)
    model = load_inception(weights, dims=64)
    assert not marker.exists(), "the swapped file's pickle ran"
    assert calls == [True]
    assert sum(p.numel() for p in model.parameters()) > 1_000_000
