"""humanverse.shards.loader over a real curated output: DataLoader workers split the shards, and every
member decodes to the tensor the contract describes (16-bit depth kept at full precision)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pyarrow.dataset as pads
import torch
from torch.utils.data import DataLoader

from humanverse.shards.encoding import decode_depth16
from humanverse.shards.loader import ShardDataset, collate_samples
from humanverse.sources.globs import expand


def kept_keys(output: str) -> set[str]:
    files = [str(p) for p in sorted((Path(output) / "shards").glob("*.parquet"))]
    table = pads.dataset(files, format="parquet").to_table(columns=["key", "status"])
    return {k for k, s in zip(table["key"].to_pylist(), table["status"].to_pylist()) if s == "ok"}


def test_dataloader_workers_read_every_sample_exactly_once(curated_output):
    dataset = ShardDataset(f"{curated_output}/shards/*.tar")
    assert len(dataset.urls) == 3
    loader = DataLoader(dataset, batch_size=2, num_workers=2, collate_fn=collate_samples)
    keys = [k for batch in loader for k in batch["__key__"]]
    assert sorted(keys) == sorted(kept_keys(curated_output)) and len(keys) == len(set(keys))


def test_members_decode_to_contract_tensors(curated_output):
    samples = list(ShardDataset(f"{curated_output}/shards/*.tar"))
    assert samples
    for s in samples:
        image, depth, normal, meta = s["jpg"], s["depth.png"], s["normal.png"], s["json"]
        assert image.dtype == torch.uint8 and image.shape == (3, meta["height"], meta["width"])
        assert depth.dtype == torch.float32 and depth.shape == (1, meta["height"], meta["width"])
        assert normal.dtype == torch.float32 and normal.shape == (3, meta["height"], meta["width"])
        assert float(depth.min()) == 0.0 and float(depth.max()) == 1.0
        # more than 256 distinct levels: the 16-bit precision survived (an 8-bit decode has at most 256)
        assert len(torch.unique(depth)) > 256
        norms = torch.linalg.vector_norm(normal, dim=0)
        assert torch.allclose(norms, torch.ones_like(norms), atol=0.02)
        assert len(meta["persons"][0]["keypoints"]) == 133
        with tarfile.open(s["__url__"]) as tar:
            raw = tar.extractfile(f"{s['__key__']}.depth.png").read()
        assert np.array_equal(depth[0].numpy(), decode_depth16(raw))


def test_shard_urls_expand_globs_and_braces(curated_output):
    base = f"{curated_output}/shards"
    assert expand(f"{base}/*.tar") == expand(f"{base}/00000-0000{{0..2}}.tar")
    assert expand([f"{base}/00000-00001.tar"]) == [f"{base}/00000-00001.tar"]


def test_undecoded_samples_are_raw_bytes(curated_output):
    raw = next(iter(ShardDataset(f"{curated_output}/shards/00000-00000.tar", decode=False)))
    assert isinstance(raw["jpg"], bytes) and raw["jpg"][:2] == b"\xff\xd8"
    assert raw["depth.png"][:8] == b"\x89PNG\r\n\x1a\n"
