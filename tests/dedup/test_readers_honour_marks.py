"""Every reader skips marked duplicates by default and keeps them on request: our loader, the trainers'
stream, and the plain webdataset and Hugging Face datasets recipes of docs/loading.md."""

import glob
import itertools
import shutil

import pyarrow.parquet as pq
import pytest

from humanverse import cli


@pytest.fixture(scope="module")
def deduped(dup_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("deduped") / "out"
    shutil.copytree(dup_run, out)
    assert cli.main(["dedup", str(out)]) == 0
    marked = set(pq.read_table(out / "dedup" / "duplicates.parquet")["key"].to_pylist())
    ok = {r["key"] for r in pq.read_table(sorted(glob.glob(f"{out}/shards/*.parquet"))).to_pylist() if r["status"] == "ok"}
    assert len(marked) == 3 and marked < ok
    return str(out), marked, ok


def test_shard_dataset_skips_marked_keys_unless_asked(deduped):
    from humanverse.shards.loader import ShardDataset

    out, marked, ok = deduped
    assert {s["__key__"] for s in ShardDataset(f"{out}/shards/*.tar", decode=False)} == ok - marked
    assert {s["__key__"] for s in ShardDataset(f"{out}/shards/*.tar", decode=False, keep_duplicates=True)} == ok
    # marks given explicitly (e.g. shards copied elsewhere)
    elsewhere = ShardDataset(f"{out}/shards/*.tar", decode=False, duplicates=f"{out}/dedup/duplicates.parquet")
    assert {s["__key__"] for s in elsewhere} == ok - marked


def test_training_stream_skips_marked_keys_unless_configured(deduped):
    from humanverse.train.common.config import DataConfig
    from humanverse.train.common.shard_data import ShardStream

    out, marked, ok = deduped
    cfg = dict(resolution=32, num_workers=0, shuffle_buffer=0)
    seen = {s["key"] for s in itertools.islice(ShardStream(f"{out}/shards/*.tar", DataConfig(**cfg)), 24)}
    assert seen == ok - marked
    seen_all = {s["key"] for s in itertools.islice(
        ShardStream(f"{out}/shards/*.tar", DataConfig(**cfg, keep_duplicates=True)), 48)}
    assert seen_all & marked


def test_webdataset_recipe(deduped):
    import webdataset as wds

    out, marked, ok = deduped
    # docs/loading.md: skip the keys listed in OUT/dedup/duplicates.parquet
    dropped = set(pq.read_table(f"{out}/dedup/duplicates.parquet", columns=["key"])["key"].to_pylist())
    ds = (wds.WebDataset(sorted(glob.glob(f"{out}/shards/*.tar")), shardshuffle=False, empty_check=False)
          .select(lambda s: s["__key__"] not in dropped))
    assert {s["__key__"] for s in ds} == ok - marked


def test_hugging_face_datasets_recipe(deduped, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    from datasets import load_dataset

    out, marked, ok = deduped
    dropped = set(pq.read_table(f"{out}/dedup/duplicates.parquet", columns=["key"])["key"].to_pylist())
    ds = load_dataset("webdataset", data_files={"train": sorted(glob.glob(f"{out}/shards/*.tar"))}, split="train",
                      cache_dir=str(tmp_path / "hf"))
    ds = ds.filter(lambda key: key not in dropped, input_columns="__key__")
    assert set(ds["__key__"]) == ok - marked


def test_inspect_shows_counts_and_duplicate_groups(deduped, capsys):
    from humanverse.report.build import build_report

    out, marked, ok = deduped
    html, data = build_report(out, samples=2)
    assert "<h2>Duplicates</h2>" in html and "3 of 4 kept samples are marked" in html
    assert data.dedup.by_method == {"exact": 2, "perceptual": 1}
    assert len(data.dedup.groups) == 1 and len(data.dedup.groups[0]) == 4
    assert all(m.thumb and m.thumb.startswith("data:image/jpeg;base64,") for m in data.dedup.groups[0])
    assert cli.main(["inspect", out, "--samples", "1"]) == 0
    assert "duplicates: 3 of 4 kept samples marked" in capsys.readouterr().out


def test_report_with_duplicate_groups_renders_in_chromium(deduped, tmp_path):
    import re

    from tests.report import browser

    if not browser.CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (scripts/install_browser.sh installs it)")
    out, marked, ok = deduped
    html = tmp_path / "report.html"
    assert cli.main(["inspect", out, "--html", str(html), "--samples", "1"]) == 0
    dom = browser.loaded_dom(html, tmp_path / "profile")
    found = re.search(r"images=(\d+) broken=(\d+)", dom)
    assert found and int(found.group(2)) == 0, dom[-2000:]
    assert int(found.group(1)) >= 4  # at least the duplicate group's four thumbnails
    assert "Largest duplicate groups" in dom
