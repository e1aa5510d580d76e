"""OUT/README.md, the dataset card curate writes: `datasets.load_dataset(OUT)` returns the samples (images),
not the sidecars that share shards/ with the tars, every member included; the card names sources, filters,
models with licences and counts, and no absolute path."""

from __future__ import annotations

import glob
from pathlib import Path

import numpy as np
import pytest

from humanverse.shards.members import EVERY_MEMBER, member_kind


@pytest.fixture
def offline_hf(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    return str(tmp_path / "hf-cache")


def test_load_dataset_on_a_curated_run_returns_the_images(curated_output, offline_hf):
    from datasets import load_dataset

    ds = load_dataset(curated_output, split="train", cache_dir=offline_hf)
    sidecars = load_dataset("parquet", data_files=f"{curated_output}/shards/*.parquet", split="train",
                            cache_dir=offline_hf)
    assert ds.num_rows == sidecars["status"].count("ok") >= 1 and sidecars.num_rows == 10
    row = ds[0]
    assert row["jpg"].mode == "RGB" and row["depth.png"].mode == "I;16" and row["mask.png"].mode == "L"
    assert len(row["json"]["persons"][0]["keypoints"]) == 133
    card = (Path(curated_output) / "README.md").read_text()
    for needed in ("## Sources", "## Filters", "## Models", "## Counts", "Apache-2.0", "part-00000.parquet",
                   "min_area_frac: 0.15", "tiny random weights"):
        assert needed in card, needed
    assert str(Path(curated_output).parent) not in card  # no absolute path of the curator's disk


def test_load_dataset_reads_every_member(every_member_run, offline_hf):
    from datasets import load_dataset

    ds = load_dataset(every_member_run, split="train", cache_dir=offline_hf)
    assert ds.num_rows == 6
    modes = {"rgb": "RGB", "normal": "RGB", "depth16": "I;16", "probability8": "L", "classes8": "L", "binary8": "L"}
    for row in ds:
        for suffix in EVERY_MEMBER:
            kind, value = member_kind(suffix), row[suffix]
            if kind in modes:
                assert value.mode == modes[kind], suffix
            elif kind == "json":
                assert isinstance(value, dict), suffix
            else:
                assert isinstance(value, str), suffix
        assert len(np.unique(np.asarray(row["depth_omnidata.png"]))) > 256


def test_members_only_later_samples_hold_are_kept(tmp_path, offline_hf):
    """`datasets` infers features from the first 5 samples: a hand mask only the 6th has would be dropped
    without a word, and json keys likewise; the card declares them."""
    from datasets import load_dataset

    from tests.support.every_member import write_every_member_run

    out = write_every_member_run(tmp_path, shards=1, per_shard=6, only_last_has=("hand_mask.png", "outpaint.jpg"))
    ds = load_dataset(out, split="train", cache_dir=offline_hf)
    held = [row["hand_mask.png"] is not None for row in ds]
    assert held == [False] * 5 + [True]
    assert ds[5]["outpaint.jpg"].mode == "RGB" and ds[0]["outpaint.jpg"] is None
    bare = load_dataset("webdataset", data_files={"train": glob.glob(f"{out}/shards/*.tar")}, split="train",
                        cache_dir=offline_hf + "-bare")
    assert "hand_mask.png" not in bare.features  # what happens without the card
