"""The keys `humanverse dedup` marked as duplicates, for readers that do not skip them themselves (quoted by
docs/loading.md; run by tests/docs/test_snippets.py)."""

import pyarrow.parquet as pq
dropped = set(pq.read_table("out/dedup/duplicates.parquet", columns=["key"])["key"].to_pylist())
print(len(dropped), "duplicates marked")
