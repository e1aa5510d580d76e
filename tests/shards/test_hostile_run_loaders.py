"""Issue 26, items 8 and 9: the shard readers (ShardDataset, the trainers' stream) on the hostile run folder.
A bad sample is skipped and counted; no member is read past the cap; no image decodes past the pixel cap;
no unsafe key reaches the consumer."""

from __future__ import annotations

import io
import resource
import tarfile
from collections import Counter

import pytest

from humanverse.shards.loader import ShardDataset
from humanverse.shards.untrusted import BadSample, decode_array, json_object, tar_samples
from humanverse.sources.keys import check_task_id
from tests.support.hostile_run import (
    DEEP_JSON, GOOD_KEY, HUGE_DEPTH, LIST_JSON, SPARSE_BYTES, SPARSE_DEPTH, TASK, ZERO_WIDTH, png_header_only,
    sparse_member, write_hostile_run,
)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return write_hostile_run(tmp_path_factory.mktemp("hostile"))


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_shard_dataset_skips_and_counts_every_bad_sample(hostile):
    """Old code: json.loads of the 100k-deep json raised RecursionError, the 13000² depth PNG allocated
    338 MB and raised, the sparse member was read whole (200 MiB), and the unsafe keys came through."""
    before = _peak_rss_mib()
    dataset = ShardDataset(str(hostile.out / "shards" / f"{TASK}.tar"), keep_duplicates=True)
    samples = list(dataset)
    keys = [s["__key__"] for s in samples]
    assert keys == [GOOD_KEY, ZERO_WIDTH]  # width 0 is only a declared size: the sample itself is fine
    assert dataset.skipped == Counter(unsafe_member_name=10, bad_json=2, too_many_pixels=1, member_too_large=1)
    assert _peak_rss_mib() - before < 150, "a member or an image was read past its cap"


def test_undecoded_reader_caps_members_and_names_too(hostile):
    dataset = ShardDataset(str(hostile.out / "shards" / f"{TASK}.tar"), decode=False, keep_duplicates=True)
    keys = [s["__key__"] for s in dataset]
    assert SPARSE_DEPTH not in keys and all(k.isdigit() for k in keys)
    assert {LIST_JSON, DEEP_JSON, HUGE_DEPTH} <= set(keys)  # raw bytes: nothing decoded, nothing to refuse


def test_trainer_stream_skips_bad_samples_and_counts_them(hostile):
    """Old code: ZeroDivisionError on width 0 and RecursionError on the deep json killed the worker."""
    from humanverse.train.common.config import DataConfig
    from humanverse.train.common.shard_data import ShardStream

    cfg = DataConfig(resolution=32, batch_size=1, num_workers=0, shuffle_buffer=0, keep_duplicates=True)
    stream = ShardStream(str(hostile.out / "shards" / f"{TASK}.tar"), cfg, seed=0)
    got = []
    for sample in stream:
        got.append(sample["key"])
        if len(got) == 6:
            break
    assert set(got) == {GOOD_KEY, ZERO_WIDTH}
    assert got.count(GOOD_KEY) >= 1 and sample["skipped"] >= 3  # list json, deep json, huge depth per pass


def test_tar_reader_caps_by_header_size_not_by_reading():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        sparse_member(tar, "k.depth.png", SPARSE_BYTES)
        info = tarfile.TarInfo("k.json")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"{}"))
    assert len(buf.getvalue()) < 20_000
    tally = Counter()
    assert list(tar_samples(io.BytesIO(buf.getvalue()), tally=tally)) == []
    assert tally == {"member_too_large": 1}


def test_truncated_tar_ends_the_shard_not_the_reader():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in ("a.json", "b.json"):
            info = tarfile.TarInfo(name)
            info.size = 4000
            tar.addfile(info, io.BytesIO(bytes(4000)))
    tally = Counter()
    samples = list(tar_samples(io.BytesIO(buf.getvalue()[:6000]), tally=tally))
    assert [s["__key__"] for s in samples] == ["a"] and tally == {"unreadable_shard": 1}


@pytest.mark.parametrize("data", [b"[1, 2]", b"[" * 100_000 + b"]" * 100_000, b"1", b"\xff", b'{"a":' * 70 + b"1" + b"}" * 70])
def test_json_members_must_be_shallow_objects(data):
    with pytest.raises(BadSample, match="bad_json"):
        json_object(data)


def test_png_header_over_the_pixel_cap_is_refused_before_decoding():
    with pytest.raises(BadSample, match="too_many_pixels"):
        decode_array(png_header_only(13000, 13000))


@pytest.mark.parametrize("value", ["../x", "/abs", "a.b", "", "a" * 129, "x\n", None, 3])
def test_task_ids_from_files_are_checked(value):
    with pytest.raises(ValueError, match="unsafe task id"):
        check_task_id(value)


def test_a_sidecar_footer_claiming_too_many_rows_is_refused_before_reading(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from humanverse.shards.untrusted import read_sidecar

    path = tmp_path / "s.parquet"
    pq.write_table(pa.table({"key": ["a", "b", "c"]}), path)
    assert read_sidecar(path.read_bytes()).num_rows == 3
    with pytest.raises(BadSample, match="too_many_rows"):
        read_sidecar(path.read_bytes(), max_rows=2)
