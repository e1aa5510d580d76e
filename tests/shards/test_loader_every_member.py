"""ShardDataset on a shard holding every member curate writes: each decodes by what it is (every depth model
at 16 bits, single-channel masks and class ids), and members we never write stay bytes, never unpickled."""

from __future__ import annotations

import numpy as np
import torch

from humanverse.shards.encoding import decode_depth16
from humanverse.shards.loader import ShardDataset
from humanverse.shards.members import EVERY_MEMBER, member_kind
from tests.support.every_member import expected_arrays, write_hostile_shard

EXPECTED = {"rgb": (torch.uint8, 3), "depth16": (torch.float32, 1), "normal": (torch.float32, 3),
            "probability8": (torch.float32, 1), "classes8": (torch.uint8, 1), "binary8": (torch.bool, 1)}


def test_every_member_decodes_to_its_tensor(every_member_run):
    samples = list(ShardDataset(f"{every_member_run}/shards/*.tar"))
    assert len(samples) == 6
    raw = {s["__key__"]: s for s in ShardDataset(f"{every_member_run}/shards/*.tar", decode=False)}
    for s in samples:
        seed = int(s["__key__"][5:])
        for suffix in EVERY_MEMBER:
            kind, value = member_kind(suffix), s[suffix]
            if kind in EXPECTED:
                dtype, channels = EXPECTED[kind]
                assert value.dtype == dtype and tuple(value.shape) == (channels, 24, 32), suffix
            elif kind == "json":
                assert isinstance(value, dict), suffix
            else:
                assert value == f"person {seed}"
            if kind == "depth16":
                assert len(torch.unique(value)) > 256, suffix
                np.testing.assert_array_equal(value[0].numpy(), decode_depth16(raw[s["__key__"]][suffix]))
        truth = expected_arrays(seed)
        np.testing.assert_array_equal(s["parts.png"][0].numpy(), truth["parts"])
        np.testing.assert_array_equal(s["hand_mask.png"][0].numpy(), truth["hand_mask"])
        np.testing.assert_allclose(s["mask.png"][0].numpy(), truth["mask"], atol=0.5 / 255)


def test_members_we_never_write_stay_bytes(tmp_path):
    marker = tmp_path / "pwned"
    url = write_hostile_shard(tmp_path / "hostile.tar", marker, gz_bytes=1 << 20)
    (sample,) = list(ShardDataset(url))
    assert not marker.exists()
    assert all(isinstance(sample[k], bytes) for k in ("pyd", "pickle", "pth", "txt.gz"))
    assert len(sample["txt.gz"]) < 1 << 20  # not inflated
