"""Issue 15's local-input attacks: hostile parquet cells (F4), an img2dataset tar with a huge member (F5),
an image folder holding /dev/zero, a FIFO and a 1.5 GB file (F6), and unsafe keys / member suffixes."""

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
from humanverse.sources.image_folder import MAX_CAPTION_BYTES, ImageFolderReader
from humanverse.sources.img2dataset_tars import Img2DatasetTarReader
from humanverse.sources.keys import check_key, check_member_suffix
from humanverse.sources.parquet_urls import ParquetURLReader

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(60)]


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (9, 9, 9)).save(buf, format="PNG")
    return buf.getvalue()


# ---------------------------------------------------------------- F4: hostile parquet cells

def read_all(path) -> list:
    reader = ParquetURLReader("auto", {})
    n = reader.count(str(path))
    return reader.read(TaskSpec("00000-00000", str(path), "laion", 0, n))


def test_out_of_range_sizes_are_nulled_with_a_note(tmp_path):
    path = tmp_path / "sizes.parquet"
    pq.write_table(pa.table({
        "URL": ["http://e/1.jpg", "http://e/2.jpg", "http://e/3.jpg", "http://e/4.jpg"],
        "TEXT": ["a", "b", "c", "d"],
        "WIDTH": pa.array([3e9, float("inf"), 640.0, float("nan")]),
        "HEIGHT": pa.array([2**62, -5, 480, None], type=pa.int64()),
    }), path)
    samples = read_all(path)
    assert [s.meta["width"] for s in samples] == [None, None, 640, None]
    assert [s.meta["height"] for s in samples] == [None, None, 480, None]
    assert samples[0].info["metadata_problems"] == {"WIDTH": "out_of_range", "HEIGHT": "out_of_range"}
    assert "metadata_problems" not in samples[2].info and "metadata_problems" not in samples[3].info
    assert all(s.alive for s in samples)


@pytest.mark.parametrize("urls", [
    pa.array([1, 2], type=pa.int64()),
    pa.array([["http://e/a.jpg"], []], type=pa.list_(pa.string())),
    pa.array([{"u": "http://e/a.jpg"}, {"u": None}], type=pa.struct([("u", pa.string())])),
    pa.array([b"\xff\xfe", b"http://e/\xe9.jpg"], type=pa.binary()),
], ids=["int", "list", "struct", "non_utf8_binary"])
def test_a_url_column_that_is_not_text_fails_each_row_with_a_reason(tmp_path, urls):
    path = tmp_path / "urls.parquet"
    pq.write_table(pa.table({"URL": urls, "TEXT": ["a", "b"]}), path)
    samples = read_all(path)
    assert [(s.status, s.stage, s.reason) for s in samples] == [("error", "read", "bad_metadata:URL")] * 2


def test_binary_caption_is_decoded_with_replacement(tmp_path):
    path = tmp_path / "text.parquet"
    pq.write_table(pa.table({"URL": ["http://e/a.jpg", "http://e/b.jpg"],
                             "TEXT": pa.array([b"caf\xe9", "fine".encode()], type=pa.binary())}), path)
    samples = read_all(path)
    assert [s.caption for s in samples] == ["caf\ufffd", "fine"]  # never the repr "b'caf\\xe9'"
    assert samples[0].info["metadata_problems"] == {"TEXT": "decoded_with_replacement"}


# ---------------------------------------------------------------- F5: huge tar members

def sparse_tar(path, member_size: int) -> None:
    """A tar whose second sample's image member declares member_size bytes; on disk the data is a hole."""
    with open(path, "wb") as raw:
        with tarfile.open(fileobj=raw, mode="w") as tar:
            for name, data in (("s0.jpg", png_bytes()), ("s0.txt", b"small")):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            info = tarfile.TarInfo("s1.jpg")
            info.size = member_size
            raw.write(info.tobuf())
            raw.seek(member_size + (-member_size % 512), os.SEEK_CUR)
            tar.offset = raw.tell()
            for name, data in (("s1.txt", b"huge"), ("s2.jpg", png_bytes())):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def read_tar_peak(path, max_bytes: int):
    reader = Img2DatasetTarReader(max_bytes=max_bytes)
    tracemalloc.start()
    try:
        samples = reader.read(TaskSpec("t", str(path), "img2dataset", 0, reader.count(str(path))))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return samples, peak


def test_tar_member_over_the_cap_is_a_too_large_row_and_never_read(tmp_path):
    path = tmp_path / "sparse.tar"
    sparse_tar(path, 1024**3)  # 1 GiB declared
    assert os.stat(path).st_blocks * 512 < 10 * 1024**2  # small on disk
    samples, peak = read_tar_peak(path, max_bytes=32 * 1024**2)
    assert [(s.status, s.reason) for s in samples] == [("ok", None), ("error", "too_large"), ("ok", None)]
    assert samples[1].caption == "huge" and samples[2].image_bytes == png_bytes()
    assert peak < 16 * 1024**2, f"{peak / 2**20:.0f} MiB held while reading"


def test_gzipped_tar_member_over_the_cap_is_a_too_large_row(tmp_path):
    plain = tmp_path / "plain.tar"
    sparse_tar(plain, 64 * 1024**2)
    path = tmp_path / "bomb.tar.gz"
    with open(plain, "rb") as src, gzip.open(path, "wb", compresslevel=1) as dst:
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    assert path.stat().st_size < 2 * 1024**2
    samples, peak = read_tar_peak(path, max_bytes=1024**2)
    assert [s.reason for s in samples] == [None, "too_large", None]
    assert peak < 16 * 1024**2, f"{peak / 2**20:.0f} MiB held while reading"


# ---------------------------------------------------------------- F6: hostile folder entries

def test_folder_with_device_fifo_and_huge_file_ends_as_rows(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "a_ok.png").write_bytes(png_bytes())
    (folder / "a_ok.txt").write_bytes(b"x" * (MAX_CAPTION_BYTES + 10))
    os.symlink("/dev/zero", folder / "b_zero.jpg")
    os.mkfifo(folder / "c_fifo.jpg")
    with open(folder / "d_huge.jpg", "wb") as huge:
        huge.truncate(1536 * 1024**2)  # 1.5 GB, sparse
    os.symlink("/dev/zero", folder / "e_ok.txt")
    (folder / "e_ok.png").write_bytes(png_bytes())
    os.symlink(folder / "a_ok.png", folder / "f_link.png")  # a symlink to a regular file is fine
    reader = ImageFolderReader(max_bytes=32 * 1024**2)
    n = reader.count(str(folder))
    assert n == 6
    tracemalloc.start()
    try:
        samples = reader.read(TaskSpec("t", str(folder), "folder", 0, n))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    got = {s.source["source_id"]: (s.status, s.reason) for s in samples}
    assert got == {
        "a_ok.png": ("ok", None), "b_zero.jpg": ("error", "not_a_regular_file"),
        "c_fifo.jpg": ("error", "not_a_regular_file"), "d_huge.jpg": ("error", "too_large"),
        "e_ok.png": ("ok", None), "f_link.png": ("ok", None),
    }
    by_id = {s.source["source_id"]: s for s in samples}
    assert len(by_id["a_ok.png"].caption) == MAX_CAPTION_BYTES
    assert by_id["a_ok.png"].info["caption_problem"].startswith("truncated")
    assert by_id["e_ok.png"].caption == "" and by_id["e_ok.png"].info["caption_problem"] == "not_a_regular_file"
    assert peak < 8 * 1024**2


# ---------------------------------------------------------------- keys and member names

@pytest.mark.parametrize("key", ["ok\n", "ok\x00", "a.b", "a/b", "", "ok\r"])
def test_unsafe_keys_are_refused(key):
    with pytest.raises(ValueError):
        check_key(key)


@pytest.mark.parametrize("suffix", ["depth.png\x00", "depth.png\n", "../x", "a/b", ".png", "png.", "a..b", ""])
def test_unsafe_member_suffixes_are_refused(suffix):
    with pytest.raises(ValueError):
        check_member_suffix(suffix)


def test_safe_keys_and_suffixes_pass():
    assert check_key("00000000000012") == "00000000000012"
    assert check_member_suffix("depth_omnidata.png") == "depth_omnidata.png"
    assert check_member_suffix("outpaint.depth.png") == "outpaint.depth.png"
