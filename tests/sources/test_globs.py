"""sources/globs.py: the one pattern expander (brace ranges, then fsspec globs) behind --input, --data
and the shard loader."""

import pytest

from humanverse.engine.planner import plan
from humanverse.sources.globs import expand
from tests.support.laion_input import write_laion_parquet


def touch(root, *names):
    for name in names:
        (root / name).write_bytes(b"x")


def test_brace_ranges_and_lists_expand_before_globs(tmp_path):
    touch(tmp_path, "00000.tar", "00001.tar", "00002.tar", "a.parquet", "b.parquet")
    base = str(tmp_path)
    assert expand(f"{base}/{{00000..00001}}.tar") == [f"{base}/00000.tar", f"{base}/00001.tar"]
    assert expand(f"{base}/{{a,b}}.parquet") == [f"{base}/a.parquet", f"{base}/b.parquet"]
    assert expand([f"{base}/*.tar", f"{base}/00001.tar"]) == [f"{base}/0000{i}.tar" for i in range(3)]  # sorted, unique
    assert expand(f"{base}/{{00000..00002}}*.tar") == expand(f"{base}/*.tar")


def test_what_is_missing_is_named(tmp_path):
    touch(tmp_path, "00000.tar")
    with pytest.raises(FileNotFoundError, match=r"--input .*not found: .*00001.tar"):
        expand(f"{tmp_path}/{{00000..00001}}.tar", what="--input")
    with pytest.raises(FileNotFoundError, match="matched nothing"):
        expand(f"{tmp_path}/*.parquet")
    # shard URLs a reader streams are not checked one by one
    assert expand(f"{tmp_path}/{{00000..00001}}.tar", must_exist=False)[-1].endswith("00001.tar")


def test_readme_brace_input_plans_tasks(tmp_path, image_server):
    for i in range(2):
        write_laion_parquet(tmp_path / f"{i:05d}.parquet", image_server)
    p = plan([f"{tmp_path}/{{00000..00001}}.parquet"], "auto", {}, 1000, None)
    assert [i.path.rsplit("/", 1)[-1] for i in p.inputs] == ["00000.parquet", "00001.parquet"]
