"""duckdb over the parquet sidecars (quoted by the README and docs/loading.md; run by tests/docs/test_snippets.py)."""

import duckdb

duckdb.sql("select reason, count(*) from 'out/shards/*.parquet' group by 1 order by 2 desc").show()

duckdb.sql("""
    select key, task_id, url, aesthetic, human_area_frac
    from read_parquet('out/shards/*.parquet', union_by_name = true)
    where status = 'ok' and n_persons = 2 and aesthetic >= 6
    order by aesthetic desc
""").show()
duckdb.sql("select status, stage, reason, count(*) n from read_parquet('out/shards/*.parquet', union_by_name = true) "
           "group by all order by n desc").show()
