"""Hugging Face `datasets` on a run folder (quoted by docs/loading.md; run by tests/docs/test_snippets.py with
humanverse unimportable). The run's README.md (its dataset card) names the tars, so the one-line load returns
the samples; load_dataset on out/shards itself would read the parquet sidecars instead."""

import glob

import numpy as np
import pyarrow.parquet as pq
from datasets import load_dataset

samples = load_dataset("out", split="train")
row = samples[0]
row["jpg"]                                      # PIL.Image RGB
depth = np.asarray(row["depth.png"]) / 65535    # mode "I;16" (uint16): every depth*.png member alike
row["json"]["persons"][0]["keypoints"]          # 133 x [x, y, score]
row.get("mask.png"), row.get("parts.png")       # mode "L" images where the run wrote them, else None

sidecars = load_dataset("parquet", data_files="out/shards/*.parquet", split="train")  # one row per input row

if glob.glob("out/dedup/duplicates.parquet"):   # skip the duplicates `humanverse dedup` marked
    dropped = set(pq.read_table("out/dedup/duplicates.parquet", columns=["key"])["key"].to_pylist())
    samples = samples.filter(lambda key: key not in dropped, input_columns="__key__")
print(samples.num_rows, "samples;", sidecars.num_rows, "sidecar rows")
