import pyarrow as pa
import pyarrow.parquet as pq

from humanverse.shards.dedup_marks import load_duplicate_keys, marks_path, run_root_of_shard


def test_run_root_of_a_shard():
    assert run_root_of_shard("/data/out/shards/00000-00001.tar") == "/data/out"
    assert run_root_of_shard("s3://bucket/hv/shards/00000-00001.tar") == "s3://bucket/hv"
    assert run_root_of_shard("/elsewhere/00000-00001.tar") is None


def test_marks_beside_the_shards_limited_to_the_shards_read(tmp_path):
    out = tmp_path / "out"
    (out / "dedup").mkdir(parents=True)
    pq.write_table(pa.table({"key": ["a", "b", "c"], "task_id": ["t0", "t1", "t1"]}), marks_path(str(out)))
    shard = lambda t: f"{out}/shards/{t}.tar"  # noqa: E731
    assert load_duplicate_keys([shard("t1")]) == {"b", "c"}
    assert load_duplicate_keys([shard("t0"), shard("t1")]) == {"a", "b", "c"}
    assert load_duplicate_keys([f"{tmp_path}/other/shards/t1.tar"]) == frozenset()  # never deduplicated
    assert load_duplicate_keys(marks=marks_path(str(out))) == {"a", "b", "c"}
