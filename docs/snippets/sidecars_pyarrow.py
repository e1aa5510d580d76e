"""pyarrow over the parquet sidecars (quoted by docs/loading.md; run by tests/docs/test_snippets.py)."""

import glob

import pyarrow.dataset as ds

from humanverse.shards.records import SIDECAR_SCHEMA

sidecars = ds.dataset(sorted(glob.glob("out/shards/*.parquet")), format="parquet", schema=SIDECAR_SCHEMA)
table = sidecars.to_table(columns=["key", "task_id", "aesthetic"],
                          filter=(ds.field("status") == "ok") & (ds.field("n_persons") == 2)
                                 & (ds.field("aesthetic") >= 6))
print(table.num_rows, "rows")
