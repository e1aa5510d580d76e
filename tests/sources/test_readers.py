import io
import json
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from humanverse.engine.planner import plan
from humanverse.core.task import TaskSpec
from humanverse.sources import columns, inputs
from humanverse.sources.image_folder import ImageFolderReader
from humanverse.sources.img2dataset_tars import Img2DatasetTarReader
from humanverse.sources.parquet_urls import ParquetURLReader
from tests.support.realdata import METADATA


def laion_parquet(path, n, row_group_size=4):
    table = pa.table({
        "SAMPLE_ID": list(range(100, 100 + n)),
        "URL": [f"http://example.com/{i}.jpg" for i in range(n)],
        "TEXT": [f"caption {i}" for i in range(n)],
        "WIDTH": [640] * n,
        "HEIGHT": [480] * n,
        "punsafe": [0.1] * n,
        "AESTHETIC_SCORE": [5.5] * n,
    })
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def coyo_parquet(path):
    pq.write_table(pa.table({
        "id": [7], "url": ["http://example.com/c.jpg"], "text": ["hi"], "width": [300], "height": [300],
        "aesthetic_score_laion_v2": [6.1], "nsfw_score_opennsfw2": [0.01], "watermark_score": [0.2],
    }), path)
    return path


def test_laion_columns_map_to_canonical(tmp_path):
    p = str(laion_parquet(tmp_path / "a.parquet", 10))
    spec = TaskSpec("00003-00001", p, "laion", 5, 9, input_index=3)
    samples = ParquetURLReader("laion", {}).read(spec)
    assert [s.source["row"] for s in samples] == [5, 6, 7, 8]  # crosses row groups of 4
    first = samples[0]
    assert first.key == "00003000000005" and first.task_id == "00003-00001"
    assert first.source["url"] == "http://example.com/5.jpg" and first.source["source_id"] == "105"
    assert first.caption == "caption 5"
    assert first.meta == {"width": 640, "height": 480, "punsafe": 0.1, "aesthetic": 5.5}


def test_coyo_detected_and_mapped(tmp_path):
    p = str(coyo_parquet(tmp_path / "c.parquet"))
    assert inputs.detect_format(p, "auto") == "coyo"
    s = ParquetURLReader("coyo", {}).read(TaskSpec("00000-00000", p, "coyo", 0, 1))[0]
    assert s.meta["aesthetic"] == pytest.approx(6.1) and s.meta["pwatermark"] == pytest.approx(0.2)
    assert "punsafe" not in s.meta  # OpenNSFW2 is another scale: kept under its own name
    assert s.meta["nsfw_opennsfw2"] == pytest.approx(0.01)


def test_user_column_map(tmp_path):
    p = tmp_path / "u.parquet"
    pq.write_table(pa.table({"link": ["http://e.com/x.jpg"], "alt": ["a cat"]}), p)
    s = ParquetURLReader("laion", {"url": "link", "caption": "alt"}).read(TaskSpec("t", str(p), "laion", 0, 1))[0]
    assert s.source["url"] == "http://e.com/x.jpg" and s.caption == "a cat"
    with pytest.raises(ValueError, match="no URL column"):
        columns.resolve(["alt"], "laion", {})
    with pytest.raises(ValueError, match="column_map.url"):
        columns.resolve(["alt"], "laion", {"url": "missing"})


def test_real_laion_and_coyo_rows():
    real = str(METADATA)
    import os

    if not os.path.isdir(real):
        pytest.skip("shared realdata not present")
    laion = f"{real}/laion400m_example_rows_transcribed.parquet"
    coyo = f"{real}/coyo700m_readme_preview_rows_transcribed.parquet"
    assert inputs.detect_format(laion, "auto") == "laion"
    assert inputs.detect_format(coyo, "auto") == "coyo"
    rows = ParquetURLReader("laion", {}).read(TaskSpec("t", laion, "laion", 0, 20))
    assert len(rows) == 20 and all(r.source["url"].startswith("http") for r in rows)
    assert {r.meta["nsfw_label"] for r in rows} <= {"UNLIKELY", "UNSURE", "NSFW"}
    crows = ParquetURLReader("coyo", {}).read(TaskSpec("t", coyo, "coyo", 0, 7))
    assert all(1 <= r.meta["aesthetic"] <= 10 for r in crows)


def make_img2dataset_tar(path, n):
    with tarfile.open(path, "w") as tar:
        for i in range(n):
            key = f"{i:09d}"
            for ext, data in (("jpg", b"\xff\xd8fake" + bytes([i])), ("txt", f"cap {i}".encode()),
                              ("json", json.dumps({"url": f"http://e.com/{i}", "key": key, "punsafe": 0.2}).encode())):
                info = tarfile.TarInfo(f"{key}.{ext}")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_img2dataset_tar(tmp_path):
    p = str(make_img2dataset_tar(tmp_path / "00000.tar", 5))
    assert inputs.detect_format(p, "auto") == "img2dataset"
    r = Img2DatasetTarReader()
    assert r.count(p) == 5
    samples = r.read(TaskSpec("t", p, "img2dataset", 2, 4))
    assert [s.caption for s in samples] == ["cap 2", "cap 3"]
    assert samples[0].image_bytes.endswith(bytes([2])) and samples[0].source["url"] == "http://e.com/2"
    assert samples[0].meta == {"punsafe": 0.2}


def test_folder_reader_and_plan(tmp_path):
    from PIL import Image

    d = tmp_path / "imgs"
    (d / "sub").mkdir(parents=True)
    for name in ("b.jpg", "a.png", "sub/c.jpg"):
        Image.new("RGB", (8, 8)).save(d / name)
    (d / "a.txt").write_text("caption a")
    (d / "notes.md").write_text("ignored")
    r = ImageFolderReader()
    assert r.count(str(d)) == 3
    s = r.read(TaskSpec("t", str(d), "folder", 0, 3))
    assert [x.source["source_id"] for x in s] == ["a.png", "b.jpg", "sub/c.jpg"]  # the sub-folder is kept
    assert s[0].caption == "caption a" and s[0].image_bytes[:4] == b"\x89PNG"
    p = plan([str(d)], "auto", {}, 2, None)
    assert [t.task_id for t in p.tasks] == ["00000-00000", "00000-00001"]
    assert [(t.start, t.stop) for t in p.tasks] == [(0, 2), (2, 3)]


def test_plan_is_stable_and_digest_tracks_inputs(tmp_path):
    a = str(laion_parquet(tmp_path / "a.parquet", 10))
    b = str(laion_parquet(tmp_path / "b.parquet", 3))
    p1 = plan([str(tmp_path / "*.parquet")], "auto", {}, 4, None)
    assert [t.task_id for t in p1.tasks] == ["00000-00000", "00000-00001", "00000-00002", "00001-00000"]
    assert p1.total_rows == 13
    assert plan([b, a], "auto", {}, 4, None).digest() == p1.digest()  # sorted: order of --input is irrelevant
    assert plan([a], "auto", {}, 4, None).digest() != p1.digest()
    with pytest.raises(FileNotFoundError, match="matched nothing"):
        plan([str(tmp_path / "nope*.parquet")], "auto", {}, 4, None)
