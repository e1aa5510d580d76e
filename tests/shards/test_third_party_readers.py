"""A real curated output read with what ML teams already use, none of it our code: plain webdataset,
Hugging Face datasets, and pyarrow / duckdb on the parquet sidecars (the snippets in docs/loading.md)."""

from __future__ import annotations

import glob
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.dataset as pads
import webdataset as wds

from humanverse.shards.encoding import decode_depth16
from humanverse.shards.records import SIDECAR_SCHEMA


def test_plain_webdataset_with_a_16bit_depth_handler(curated_output):
    urls = sorted(glob.glob(f"{curated_output}/shards/*.tar"))
    # the handler for depth.png goes ahead of "pil", which would turn the 16-bit PNG into 8-bit RGB
    ds = wds.WebDataset(urls, shardshuffle=False).decode(wds.handle_extension("depth.png", decode_depth16), "pil")
    samples = list(ds)
    assert samples
    for s in samples:
        depth, image = s["depth.png"], s["jpg"]
        assert depth.dtype == np.float32 and depth.shape == (image.height, image.width)
        assert len(np.unique(depth)) > 256
        assert s["normal.png"].mode == "RGB" and len(s["json"]["persons"][0]["keypoints"]) == 133
    naive = next(iter(wds.WebDataset(urls, shardshuffle=False).decode("pil")))
    assert naive["depth.png"].mode == "RGB"  # the pitfall the handler avoids: precision lost to 8 bits


def test_hugging_face_datasets_webdataset_builder(curated_output, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from datasets import load_dataset

    files = sorted(glob.glob(f"{curated_output}/shards/*.tar"))
    ds = load_dataset("webdataset", data_files={"train": files}, split="train", cache_dir=str(tmp_path / "hf"))
    sidecars = sorted(glob.glob(f"{curated_output}/shards/*.parquet"))
    ok = pads.dataset(sidecars, format="parquet").to_table(columns=["status"])["status"].to_pylist().count("ok")
    assert ds.num_rows == ok
    row = ds[0]
    depth = np.asarray(row["depth.png"])
    assert row["depth.png"].mode == "I;16" and depth.dtype == np.uint16 and depth.max() == 65535
    assert depth.shape == (row["jpg"].height, row["jpg"].width)
    assert row["json"]["persons"][0]["box"] and row["txt"]


def test_sidecars_query_with_duckdb_and_pyarrow(curated_output):
    shards = Path(curated_output) / "shards"
    con = duckdb.connect()
    by_duckdb = con.execute(
        "select key from read_parquet(?, union_by_name = true) "
        "where status = 'ok' and n_persons = 1 and human_area_frac >= 0.15 order by key",
        [f"{shards}/*.parquet"],
    ).fetchall()
    # one typed schema for every shard's sidecar (humanverse.shards.records), so a dataset of them unifies
    dataset = pads.dataset(sorted(glob.glob(f"{shards}/*.parquet")), format="parquet", schema=SIDECAR_SCHEMA)
    table = dataset.to_table(
        columns=["key"],
        filter=(pads.field("status") == "ok") & (pads.field("n_persons") == 1) & (pads.field("human_area_frac") >= 0.15),
    )
    assert [k for (k,) in by_duckdb] == sorted(table["key"].to_pylist())
    assert by_duckdb  # the bus photo: one HOG person covering ~20 % of the image
    counts = dict(con.execute(
        "select status, count(*) from read_parquet(?, union_by_name = true) group by 1", [f"{shards}/*.parquet"]
    ).fetchall())
    assert sum(counts.values()) == 10 and counts["ok"] == len(table)
