"""Planning does not trust what input files say (issue 26 item 11). Each test failed on the code before:
the footer's row count planned tasks for rows that are not there, a repeated caption was expanded on every
row, a tar was read from the start by every task, a pax header was read whole, and a truncated tar, a
1,200-deep folder and a deeply nested HaGRID json stopped planning with a traceback."""

import gzip
import io
import os
import tarfile
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from humanverse.core.task import TaskSpec
from humanverse.engine.planner import plan
from humanverse.sources import img2dataset_tars
from humanverse.sources.input_error import InputError
from humanverse.sources.metadata_values import MAX_TEXT_CHARS
from humanverse.sources.parquet_urls import ParquetURLReader


def test_a_footer_claiming_more_rows_than_its_url_bytes_hold_is_refused(tmp_path):
    path = tmp_path / "claims.parquet"
    pq.write_table(pa.table({"URL": pa.nulls(2_000_000, pa.string())}), path, row_group_size=2_000_000)
    assert os.path.getsize(path) < 10_000  # 2M rows in a few KB: the old planner made 2,000 tasks of them
    with pytest.raises(InputError, match=r"claims\.parquet: row group 0 claims 2000000 rows"):
        plan([str(path)], "auto", {}, 1000, None)


def test_a_footer_whose_column_lies_outside_the_file_is_refused(tmp_path):
    path = tmp_path / "cut.parquet"
    n = 20_000
    pq.write_table(pa.table({"URL": [f"http://e.com/{i:08d}/{i * 7919 % 10007}.jpg" for i in range(n)]}), path,
                   compression="none")
    data = path.read_bytes()
    footer = int.from_bytes(data[-8:-4], "little") + 8
    path.write_bytes(data[:4] + data[4 + (len(data) - footer - 4) // 2 :])  # half of the data gone, footer kept
    assert pq.ParquetFile(path).metadata.num_rows == n  # the footer still reads
    with pytest.raises(InputError, match="lies outside the file"):
        plan([str(path)], "auto", {}, 1000, None)


def test_real_url_columns_pass_the_row_check(tmp_path):
    path = tmp_path / "ok.parquet"
    pq.write_table(pa.table({"URL": [f"http://example.com/{i:07d}.jpg" for i in range(50_000)]}), path)
    assert plan([str(path)], "auto", {}, 1000, None).total_rows == 50_000


def test_a_dictionary_repeated_caption_is_cut_before_it_is_repeated(tmp_path):
    """One 512 KiB caption on 128 rows is a few KB of file; read as Python rows it was 64 MiB a column."""
    path = tmp_path / "bomb.parquet"
    rows = 128
    once = pa.array([0] * rows, pa.int32())
    pq.write_table(pa.table({"URL": [f"http://e.com/{i}.jpg" for i in range(rows)],
                             "TEXT": pa.DictionaryArray.from_arrays(once, pa.array(["x" * 2**19])),
                             "LICENSE": pa.DictionaryArray.from_arrays(once, pa.array(["y" * 2**19]))}),
                   path, compression="zstd")
    assert os.path.getsize(path) < 20_000
    spec = TaskSpec("t", str(path), "laion", 0, rows)
    tracemalloc.start()
    try:
        samples = ParquetURLReader("auto", {}).read(spec)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * rows * MAX_TEXT_CHARS + 16 * 2**20, peak  # old code: > 2 x 64 MiB
    assert len(samples) == rows
    assert {len(s.caption) for s in samples} == {MAX_TEXT_CHARS}
    assert samples[0].info["metadata_problems"] == {"TEXT": f"cut_to_{MAX_TEXT_CHARS}_chars",
                                                    "LICENSE": f"cut_to_{MAX_TEXT_CHARS}_chars"}
    assert all(s.alive for s in samples)


def test_a_url_over_the_text_cap_fails_its_row(tmp_path):
    path = tmp_path / "long_url.parquet"
    pq.write_table(pa.table({"URL": ["http://e.com/" + "a" * (MAX_TEXT_CHARS + 1), "http://e.com/ok.jpg"]}), path)
    samples = ParquetURLReader("auto", {}).read(TaskSpec("t", str(path), "laion", 0, 2))
    assert (samples[0].reason, samples[1].alive) == ("bad_metadata:URL", True)
    assert samples[0].info["metadata_problems"] == {"URL": "too_long"}
    assert "metadata_problems" not in samples[1].info


def tar_of(path, n, data_size=64):
    with tarfile.open(path, "w") as tar:
        for i in range(n):
            for ext, data in (("jpg", bytes([i % 256]) * data_size), ("txt", f"cap {i}".encode())):
                info = tarfile.TarInfo(f"{i:06d}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return str(path)


def test_a_task_seeks_to_its_first_sample_instead_of_reading_the_tar_from_the_start(tmp_path, monkeypatch):
    path = tar_of(tmp_path / "big.tar", 3000)
    p = plan([path], "auto", {}, 10, None)
    assert p.total_rows == 3000
    headers = []
    original = tarfile.TarInfo.fromtarfile.__func__
    monkeypatch.setattr(tarfile.TarInfo, "fromtarfile",
                        classmethod(lambda cls, tar: headers.append(1) or original(cls, tar)))
    last = p.tasks[-1]
    samples = img2dataset_tars.Img2DatasetTarReader().read(last)
    assert [s.caption for s in samples] == [f"cap {i}" for i in range(2990, 3000)]
    assert len(headers) < 50, len(headers)  # old code parsed all 6,000 headers for the last task


def pax_bomb(path, size):
    """A .tar.gz whose first header is a pax header declaring `size` bytes of (zero) data."""
    info = tarfile.TarInfo("././@PaxHeader")
    info.type = tarfile.XHDTYPE
    info.size = size
    with gzip.open(path, "wb", compresslevel=1) as out:
        out.write(info.tobuf(tarfile.USTAR_FORMAT))
        chunk = bytes(1 << 20)
        for _ in range(size >> 20):
            out.write(chunk)
        out.write(bytes(1024))
    return str(path)


def test_a_huge_pax_header_is_refused_without_reading_it(tmp_path):
    path = pax_bomb(tmp_path / "pax.tar.gz", 64 << 20)
    assert os.path.getsize(path) < 1 << 20
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"pax\.tar\.gz: .*67108864-byte extended header"):
            plan([path], "auto", {}, 10, None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak  # old code read the 64 MiB header whole (and planned 0 rows)


def test_a_truncated_tar_plans_and_its_cut_sample_is_a_truncated_row(tmp_path):
    path = tmp_path / "cut.tar"
    tar_of(path, 3, data_size=4000)
    data = path.read_bytes()
    cut = data.index(bytes([2]) * 4000) + 1000  # inside the last sample's image data
    path.write_bytes(data[:cut])
    p = plan([str(path)], "auto", {}, 10, None)  # old code: tarfile.ReadError traceback
    assert p.total_rows == 3
    samples = img2dataset_tars.Img2DatasetTarReader().read(p.tasks[0])
    assert [s.caption for s in samples[:2]] == ["cap 0", "cap 1"] and samples[0].image_bytes
    assert (samples[1].alive, samples[2].reason) == (True, "truncated")


def test_a_1200_deep_folder_is_listed(tmp_path):
    deep = tmp_path / "root"
    path = str(deep)
    os.mkdir(path)
    for _ in range(1200):  # os.makedirs recurses too
        path += "/d"
        os.mkdir(path)
    Image.new("RGB", (4, 4)).save(os.path.join(path, "a.png"))
    try:
        p = plan([str(deep)], "auto", {}, 10, None)  # old code: RecursionError in os.walk
        assert p.total_rows == 1
    finally:
        while path != str(deep):  # shutil.rmtree recurses too
            for name in os.listdir(path):
                os.remove(os.path.join(path, name))
            os.rmdir(path)
            path = os.path.dirname(path)


def test_a_deeply_nested_hagrid_json_is_an_input_error(tmp_path):
    path = tmp_path / "hagrid_annotations" / "train" / "call.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(InputError, match=r"call\.json: not a HaGRID annotation file"):
        plan([str(path)], "hagrid", {}, 10, None)  # old code: RecursionError traceback


def test_a_broken_parquet_is_an_input_error_naming_it(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100)
    with pytest.raises(InputError, match=r"broken\.parquet: cannot be read"):
        plan([str(path)], "auto", {}, 10, None)


RSS_CHILD = """
import resource, sys
from humanverse.core.task import TaskSpec
from humanverse.sources.parquet_urls import ParquetURLReader
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
samples = ParquetURLReader("auto", {}).read(TaskSpec("t", sys.argv[1], "laion", 0, int(sys.argv[2])))
print(len(samples), (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024)
"""


def test_reading_a_dictionary_repeated_caption_holds_bounded_memory(tmp_path):
    """pyarrow decodes a dictionary column to one value per row before we can cut it: a 256 KiB caption
    on 2,048 rows (a 5 KB file) grew the old reader's peak RSS by 556 MB; now 198 MB (batches sized from the
    dictionary page, cells cut before they become Python strings)."""
    import subprocess
    import sys

    path = tmp_path / "dict_bomb.parquet"
    rows = 2048
    pq.write_table(pa.table({"URL": [f"http://e.com/{i}.jpg" for i in range(rows)],
                             "TEXT": pa.DictionaryArray.from_arrays(pa.array([0] * rows, pa.int32()),
                                                                    pa.array(["x" * 2**18]))}),
                   path, compression="zstd")
    out = subprocess.run([sys.executable, "-c", RSS_CHILD, str(path), str(rows)], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    count, grown = map(int, out.stdout.split())
    assert count == rows
    assert grown < 400 * 2**20, grown  # old code: 556 MB
