"""`humanverse curate` with input and output on an S3-compatible object store (moto's server on loopback).

The CLI runs in a subprocess whose environment points s3fs at the server (FSSPEC_S3_ENDPOINT_URL and
friends, read by fsspec at import): Ray starts inside that process, so its workers inherit the same
environment, which is how a user configures a local run too. A watcher lists the bucket throughout the
first run and checks that no stats marker is ever visible without its tar and parquet.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import tarfile
import threading
import time

import fsspec
import pyarrow.parquet as pq
import pytest

from tests.support.engine_only import ENGINE_ONLY
from tests.support.laion_input import write_laion_parquet

BUCKET = "hv-test"
HV = [sys.executable, "-m", "humanverse.cli"]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(s3_endpoint, monkeypatch):
    """This process's s3fs pointed at the server, and the environment a subprocess needs for the same."""
    env = {"FSSPEC_S3_ENDPOINT_URL": s3_endpoint, "FSSPEC_S3_KEY": "testing", "FSSPEC_S3_SECRET": "testing",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    # fsspec read its env config at import time; set this process's s3 defaults explicitly
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_endpoint, "key": "testing", "secret": "testing"})
    fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)
    if not fs.exists(BUCKET):
        fs.mkdir(BUCKET)
    return fs, env


def curate_cli(inp: str, out: str, env: dict, engine: str = "ray") -> subprocess.CompletedProcess:
    args = ["curate", "--input", inp, "--output", out, "--preset", "demo", "--allow-private-urls",
            "--engine", engine, "--set", "input.rows_per_task=4", *(a for o in ENGINE_ONLY for a in ("--set", o))]
    full_env = {**os.environ, **env, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
    return subprocess.run(HV + args, capture_output=True, text=True, env=full_env, timeout=300, check=False)


class MarkerWatcher(threading.Thread):
    """Lists the shard prefix every 50 ms; records any stats marker seen without its tar or parquet."""

    def __init__(self, fs, prefix: str):
        super().__init__(daemon=True)
        self.fs, self.prefix = fs, prefix
        self.stop_event = threading.Event()
        self.violations: list[str] = []
        self.snapshots = 0

    def run(self):
        while not self.stop_event.is_set():
            try:
                names = {p.rsplit("/", 1)[-1] for p in self.fs.find(self.prefix)}
            except FileNotFoundError:
                names = set()
            self.snapshots += 1
            for n in names:
                if n.endswith(".stats.json"):
                    task = n[: -len(".stats.json")]
                    if not {task + ".tar", task + ".parquet"} <= names:
                        self.violations.append(n)
            time.sleep(0.05)


@pytest.mark.slow  # slow (~30 s): keeps the default suite within its 5 minutes; run with scripts/test.sh -m slow
def test_curate_from_s3_to_s3_publishes_marker_last_and_resumes(s3, image_server, tmp_path):
    fs, env = s3
    local = write_laion_parquet(tmp_path / "part-00000.parquet", image_server, repeat=2)
    fs.put_file(local, f"{BUCKET}/laion/part-00000.parquet")
    out = f"s3://{BUCKET}/hv"

    watcher = MarkerWatcher(fs, f"{BUCKET}/hv/shards")
    watcher.start()
    first = curate_cli(f"s3://{BUCKET}/laion/*.parquet", out, env)
    watcher.stop_event.set()
    watcher.join()
    assert first.returncode == 0, first.stderr[-3000:]
    assert watcher.snapshots > 10 and not watcher.violations, watcher.violations

    shards = sorted(p.rsplit("/", 1)[-1] for p in fs.find(f"{BUCKET}/hv/shards"))
    tasks = ["00000-00000", "00000-00001", "00000-00002"]
    assert shards == sorted(f"{t}.{ext}" for t in tasks for ext in ("parquet", "stats.json", "tar"))
    run = json.loads(fs.cat_file(f"{BUCKET}/hv/run.json"))
    assert run["status"] == "complete" and run["counts"]["input"] == 10
    assert run["inputs"][0]["path"] == f"s3://{BUCKET}/laion/part-00000.parquet"
    for t in tasks:
        stats = json.loads(fs.cat_file(f"{BUCKET}/hv/shards/{t}.stats.json"))
        with tarfile.open(fileobj=io.BytesIO(fs.cat_file(f"{BUCKET}/hv/shards/{t}.tar"))) as tar:
            assert len({m.name.split(".")[0] for m in tar.getmembers()}) == stats["written"]
        assert pq.read_table(io.BytesIO(fs.cat_file(f"{BUCKET}/hv/shards/{t}.parquet"))).num_rows == stats["input"]
    assert not [p for p in fs.find(f"{BUCKET}/hv") if ".tmp-" in p or p.endswith(".part")]

    # An interrupted task (marker missing) is redone; the complete ones are skipped and left untouched.
    # (Resume is the driver's decision, the same on either engine: the rerun uses the local one.)
    kept_etag = fs.info(f"{BUCKET}/hv/shards/00000-00000.tar")["ETag"]
    kept_mtime = fs.info(f"{BUCKET}/hv/shards/00000-00000.stats.json")["LastModified"]
    fs.rm(f"{BUCKET}/hv/shards/00000-00001.stats.json")
    second = curate_cli(f"s3://{BUCKET}/laion/*.parquet", out, env, engine="local")
    assert second.returncode == 0, second.stderr[-3000:]
    assert "2 already complete, 1 to run" in second.stderr
    assert fs.exists(f"{BUCKET}/hv/shards/00000-00001.stats.json")
    assert fs.info(f"{BUCKET}/hv/shards/00000-00000.tar")["ETag"] == kept_etag
    assert fs.info(f"{BUCKET}/hv/shards/00000-00000.stats.json")["LastModified"] == kept_mtime
    assert json.loads(fs.cat_file(f"{BUCKET}/hv/run.json"))["resumed"] == 1

    # and the run can be inspected where it lies
    from humanverse.report.build import build_report

    html, data = build_report(out, samples=2)
    assert data.summary["counts"]["input"] == 10 and "data:image/jpeg;base64," in html
