"""What --input may name: img2dataset output folders (tars + siblings), and inputs that match nothing usable.
Each of these failed on the code before input_listing.py (0 tasks, IsADirectoryError, a stats json read)."""

import io
import json
import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from humanverse.cli import main
from humanverse.engine.planner import plan
from humanverse.sources.input_error import InputError


def img2dataset_folder(root, shards=2, per_shard=3):
    """What img2dataset writes: NNNNN.tar, NNNNN.parquet (the rows, with urls) and NNNNN_stats.json."""
    root.mkdir(parents=True, exist_ok=True)
    for shard in range(shards):
        name = f"{shard:05d}"
        with tarfile.open(root / f"{name}.tar", "w") as tar:
            for i in range(per_shard):
                key = f"{name}{i:04d}"
                for ext, data in (("jpg", b"\xff\xd8" + bytes([i])), ("txt", f"cap {i}".encode()),
                                  ("json", json.dumps({"url": f"http://e.com/{i}", "key": key}).encode())):
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        pq.write_table(pa.table({"url": [f"http://e.com/{i}" for i in range(per_shard)],
                                 "caption": ["c"] * per_shard}), root / f"{name}.parquet")
        (root / f"{name}_stats.json").write_text(json.dumps({"count": per_shard}))
    return root


@pytest.mark.parametrize("fmt", ["auto", "img2dataset"])
def test_an_img2dataset_output_folder_plans_its_tars(tmp_path, fmt):
    folder = img2dataset_folder(tmp_path / "out")
    p = plan([str(folder)], fmt, {}, 2, None)
    assert [i.path.rsplit("/", 1)[-1] for i in p.inputs] == ["00000.tar", "00001.tar"]
    assert {i.format for i in p.inputs} == {"img2dataset"} and p.total_rows == 6


def test_a_glob_over_img2dataset_output_skips_the_siblings(tmp_path):
    folder = img2dataset_folder(tmp_path / "out")
    p = plan([str(folder / "*")], "auto", {}, 2, None)
    assert [i.path.rsplit("/", 1)[-1] for i in p.inputs] == ["00000.tar", "00001.tar"]
    assert p.total_rows == 6


def test_a_parquet_without_its_tar_is_still_an_input(tmp_path):
    folder = img2dataset_folder(tmp_path / "out", shards=1)
    p = plan([str(folder / "*.parquet")], "auto", {}, 2, None)
    assert [i.format for i in p.inputs] == ["laion"] and p.total_rows == 3


@pytest.mark.parametrize("fmt", ["auto", "img2dataset", "folder"])
def test_a_folder_with_nothing_usable_is_an_input_error_saying_what_was_found(tmp_path, fmt):
    folder = tmp_path / "stats_only"
    folder.mkdir()
    (folder / "00000_stats.json").write_text("{}")
    (folder / "notes.md").write_text("x")
    with pytest.raises(InputError, match=r"stats_only.*found 2 entries: .*\.json"):
        plan([str(folder)], fmt, {}, 2, None)


def test_a_folder_of_images_and_tars_asks_for_the_format(tmp_path):
    folder = img2dataset_folder(tmp_path / "mixed", shards=1)
    Image.new("RGB", (4, 4)).save(folder / "a.jpg")
    with pytest.raises(InputError, match="--input-format"):
        plan([str(folder)], "auto", {}, 2, None)
    assert plan([str(folder)], "folder", {}, 2, None).total_rows == 1


def test_an_unknown_file_is_an_input_error_naming_it(tmp_path):
    (tmp_path / "x.csv").write_text("url\n")
    with pytest.raises(InputError, match=r"x\.csv: cannot tell its format"):
        plan([str(tmp_path / "x.csv")], "auto", {}, 2, None)


def test_cli_exits_2_on_an_unusable_folder_and_writes_nothing(tmp_path, capsys):
    folder = tmp_path / "empty"
    folder.mkdir()
    out = tmp_path / "run"
    assert main(["curate", "--preset", "demo", "--input", str(folder), "--output", str(out),
                 "--input-format", "img2dataset"]) == 2
    assert "has none (the folder is empty)" in capsys.readouterr().err
    assert not out.exists()


def test_a_parquet_without_a_url_column_is_refused_at_planning_with_the_fix(tmp_path, capsys):
    """Issue 31 item 7: it failed at task time ('rerun to retry') and left run state behind."""
    path = tmp_path / "m.parquet"
    pq.write_table(pa.table({"link": ["http://e.com/a.jpg"], "alt": ["a"]}), path)
    out = tmp_path / "run"
    assert main(["curate", "--preset", "demo", "--input", str(path), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "m.parquet" in err and "'alt', 'link'" in err and "input.column_map.url" in err
    assert not out.exists()
    assert plan([str(path)], "auto", {"url": "link"}, 2, None).total_rows == 1  # the fix it names works
