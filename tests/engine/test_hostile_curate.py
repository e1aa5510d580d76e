"""Issue 15's acceptance test: one `humanverse curate` over every URL-borne attack mixed with the shared
real photos (served over loopback), plus a hostile parquet (non-text URL and caption cells), a hostile
img2dataset tar (F5) and a hostile image folder (F6), finishes with exit 0 and one row per input row.
Then `inspect` over the run reads no location named inside a row.

Runs on the local executor: what it checks (row outcomes, reports, shard contents) is decided by
engine/task_runner.py, which Ray's actors call the same way; the one Ray-only piece, ReadTasks passing the
download cap to the readers, is checked on Ray in test_task_runner_hostile.py."""

import json
import os
import shutil
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import webdataset as wds

from humanverse.cli import main
from tests.sources.test_hostile_inputs import sparse_tar
from tests.support.hostile_server import HostileServer, unresponsive_addresses
from tests.support.http_server import LocalHTTPServer
from tests.support.private_jpeg import SERIAL, with_private_metadata
from tests.support.realdata import PEOPLE

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600),
              pytest.mark.skipif(not PEOPLE.exists(), reason="shared real photos not present")]
N_PHOTOS = 6


def hostile_urls(www: LocalHTTPServer, hostile: HostileServer, dead: str) -> dict[str, str]:
    """caption -> URL, one per URL-borne attack."""
    return {
        "F1 trickled status line": hostile.url("trickle-status?every=0.3"),
        "F1 trickled headers": hostile.url("trickle-headers?every=0.3"),
        "F2 unresponsive address": dead,
        "F3 local file": "file:///etc/passwd",
        "F8 open ipv6 redirect": hostile.url("redirect-open-ipv6"),
        "F8 raw byte redirect": hostile.url("redirect-raw-byte"),
        "too many headers": hostile.url("many-headers"),
        "long header": hostile.url("long-header"),
        "short body": hostile.url("short-body"),
        "metadata service": "http://169.254.169.254/latest/meta-data/",
        "redirect to metadata": www.url("redirect?to=" + quote("http://169.254.169.254/", safe="")),
        "open ipv6 literal": "http://[::1",
        "ftp": "ftp://example.com/a.jpg",
        "junk": "not a url",
        "slow body": www.url("drip/100000/30"),
        "oversized body": www.url("big/99999999"),
        "html": www.url("html"),
        "noai": www.url("noai"),
        "gps photo": www.url("img/private.jpg"),
    }


def test_curate_survives_every_attack_with_one_row_per_input(tmp_path):
    www_root = tmp_path / "www"
    www_root.mkdir()
    photos = sorted(p for p in PEOPLE.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[:N_PHOTOS]
    for p in photos:
        shutil.copyfile(p, www_root / p.name)
    (www_root / "private.jpg").write_bytes(with_private_metadata(photos[0].read_bytes(), icc_size=1024**2))

    # further inputs: a hostile tar (F5: a 1 GiB member; a json url pointing at a local file), a hostile folder (F6)
    tar_path = tmp_path / "hostile.tar"
    sparse_tar(tar_path, 1024**3)
    folder = tmp_path / "folder"
    folder.mkdir()
    shutil.copyfile(photos[1], folder / "a_photo.jpg")
    os.symlink("/dev/zero", folder / "b_zero.jpg")
    os.mkfifo(folder / "c_fifo.jpg")
    with open(folder / "d_huge.jpg", "wb") as huge:
        huge.truncate(1536 * 1024**2)
    odd = tmp_path / "odd.parquet"  # F4 and the binary TEXT column
    pq.write_table(pa.table({"URL": pa.array([b"\xff\xfe", b"http://127.0.0.1:1/a.jpg"], type=pa.binary()),
                             "TEXT": pa.array([b"caf\xe9", b"ok"], type=pa.binary())}), odd)

    with LocalHTTPServer(www_root) as www, HostileServer() as hostile, unresponsive_addresses(1) as (dead, port):
        rows = [{"URL": www.url(f"img/{p.name}"), "TEXT": f"photo {p.name}", "WIDTH": None} for p in photos]
        rows += [{"URL": url, "TEXT": caption, "WIDTH": None} for caption, url in
                 hostile_urls(www, hostile, f"http://{dead[0]}:{port}/a.jpg").items()]
        rows.append({"URL": www.url(f"img/{photos[2].name}"), "TEXT": "F4 width 3e9", "WIDTH": 3e9})
        parquet = tmp_path / "mixed.parquet"
        pq.write_table(pa.Table.from_pylist(rows, schema=pa.schema(
            [("URL", pa.string()), ("TEXT", pa.string()), ("WIDTH", pa.float64())])), parquet)
        out = tmp_path / "out"
        sets = ["input.rows_per_task=12", "fetch.download.total_timeout_s=4", "fetch.download.connect_timeout_s=2",
                "fetch.download.read_timeout_s=2", "fetch.download.retries=1", "fetch.download.max_bytes=20000000"]
        argv = ["curate", "--engine", "local", "--preset", "demo", "--output", str(out), "--allow-private-urls",
                "--input", str(parquet), "--input", str(odd), "--input", str(tar_path), "--input", str(folder)]
        for s in sets:
            argv += ["--set", s]
        assert main(argv) == 0

    expected_rows = len(rows) + 2 + 3 + 4
    sidecar = pq.read_table(sorted((out / "shards").glob("*.parquet"))).to_pylist()
    assert len(sidecar) == expected_rows and len({r["key"] for r in sidecar}) == expected_rows
    assert not (out / "failed").exists()
    by_caption = {r["caption"]: r for r in sidecar}
    expect = {
        "F1 trickled status line": "timeout", "F1 trickled headers": "timeout", "F2 unresponsive address": "timeout",
        "F3 local file": "bad_url", "F8 open ipv6 redirect": "bad_redirect", "F8 raw byte redirect": "bad_redirect",
        "too many headers": "bad_headers", "long header": "bad_headers", "short body": "incomplete_body",
        "metadata service": "blocked_address", "redirect to metadata": "blocked_address", "ftp": "bad_url",
        "oversized body": "too_large", "html": "not_an_image", "noai": "opted_out", "slow body": "timeout",
    }
    for caption, reason in expect.items():
        assert by_caption[caption]["reason"] == reason, (caption, by_caption[caption])
    assert by_caption["caf\ufffd"]["reason"] == "bad_metadata:URL"
    assert by_caption["F4 width 3e9"]["declared_width"] is None
    inputs = {r["input"]: [] for r in sidecar}
    for r in sidecar:
        inputs[r["input"]].append(r)
    tar_rows = sorted(inputs[str(tar_path)], key=lambda r: r["row"])
    assert [r["reason"] for r in tar_rows][1] == "too_large"
    folder_reasons = {r["source_id"]: r["reason"] for r in inputs[str(folder)]}
    assert folder_reasons["b_zero.jpg"] == folder_reasons["c_fifo.jpg"] == "not_a_regular_file"
    assert folder_reasons["d_huge.jpg"] == "too_large"

    # no kept sample carries the GPS photo's metadata; fetch timings are in the stats, not the samples
    for tar in sorted((out / "shards").glob("*.tar")):
        for s in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False):
            assert SERIAL.encode() not in s["jpg"] and b"Exif\x00" not in s["jpg"]
            assert "seconds" not in json.loads(s["json"]).get("http", {})
    stats = [json.loads(p.read_text()) for p in (out / "shards").glob("*.stats.json")]
    assert any("fetch" in s["sample_seconds"] for s in stats)

    assert main(["inspect", str(out)]) == 0  # and the report reads no location named inside a row
