"""The real `humanverse` console script, run as a user would, including a kill -9 mid-run (on the local
executor: what it checks is the atomic writer and resume, which are the same on Ray)."""

import json
import os
import signal
import subprocess
import sys
import tarfile
import time

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.support.engine_only import ENGINE_ONLY
from tests.support.laion_input import laion_rows  # noqa: F401 - shared row builder
from tests.support.http_server import LocalHTTPServer

HV = [sys.executable, "-m", "humanverse.cli"]
# The console script, failing if Ray was imported: `--engine local` must never need it.
HV_NO_RAY = [sys.executable, "-c", "import sys; from humanverse.cli import main; rc = main(sys.argv[1:]); "
             "assert 'ray' not in sys.modules, 'ray was imported'; sys.exit(rc)"]


def run(args, command=HV, **kw):
    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
    return subprocess.run(command + args, capture_output=True, text=True, env=env, timeout=600, **kw)


def write_parquet(path, rows):
    schema = pa.schema([("SAMPLE_ID", pa.int64()), ("URL", pa.string()), ("TEXT", pa.string())])
    pq.write_table(pa.Table.from_pylist([{k: r[k] for k in ("SAMPLE_ID", "URL", "TEXT")} for r in rows], schema=schema), path)
    return str(path)


def test_missing_weights_named_before_any_work(tmp_path):
    p = write_parquet(tmp_path / "in.parquet", [{"SAMPLE_ID": 0, "URL": "http://example.com/a.jpg", "TEXT": "x"}])
    r = run(["curate", "--input", p, "--output", str(tmp_path / "out"), "--preset", "humanverse",
             "--set", f"models_dir={tmp_path / 'models'}"])
    assert r.returncode == 2
    # every missing file is named at once: detector, pose, depth (both models) and normals
    for name in ("yolo11x.pt", "vitpose-h-wholebody.safetensors", "dpt-hybrid-midas", "omnidata_dpt_depth_v2.safetensors",
                 "omnidata_dpt_normal_v2.safetensors"):
        assert name in r.stderr, name
    assert "humanverse models list" in r.stderr
    assert not (tmp_path / "out").exists()


def test_bad_config_is_named(tmp_path):
    r = run(["curate", "--input", "x.parquet", "--output", str(tmp_path / "o"), "--preset", "demo",
             "--set", "detect.cnf=0.5"])
    assert r.returncode == 2 and "detect.cnf: unknown key" in r.stderr


def test_failed_tasks_exit_nonzero_and_are_named(tmp_path):
    with LocalHTTPServer() as srv:
        p = write_parquet(tmp_path / "in.parquet", [{"SAMPLE_ID": 0, "URL": srv.url("slow/0"), "TEXT": "x"}])
        broken = tmp_path / "broken.pt"
        broken.write_bytes(b"nope")
        r = run(["curate", "--input", p, "--output", str(tmp_path / "out"), "--preset", "demo", "--allow-private-urls",
                 "--engine", "local", "--set", "detect.backend=ultralytics", "--set", f"detect.weights={broken}",
                 "--set", "run.task_retries=0"], command=HV_NO_RAY)
    assert r.returncode == 1, r.stderr[-2000:]
    assert "00000-00000" in r.stdout and "failed/00000-00000.json" in r.stdout


@pytest.mark.reliability
def test_kill_9_mid_run_leaves_only_complete_files_and_resumes(tmp_path):
    """A killed driver leaves no half file under a final name; a rerun finishes with the same keys."""
    with LocalHTTPServer() as srv:
        rows = [{"SAMPLE_ID": i, "URL": srv.url(f"slow/{0.4 if i % 2 else 0}?i={i}"), "TEXT": str(i)} for i in range(24)]
        p = write_parquet(tmp_path / "in.parquet", rows)
        out = tmp_path / "out"
        args = ["curate", "--input", p, "--output", str(out), "--preset", "demo", "--allow-private-urls",
                "--engine", "local", "--set", "input.rows_per_task=2", "--set", "fetch.download.max_in_flight=1",
                *(a for o in ENGINE_ONLY for a in ("--set", o))]
        env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled"}
        proc = subprocess.Popen(HV + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                                start_new_session=True)
        deadline = time.time() + 240
        while time.time() < deadline and len(list((out / "shards").glob("*.stats.json"))) < 2:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done_before = {p.name for p in (out / "shards").glob("*.stats.json")}
        assert 2 <= len(done_before) < 12, "kill landed outside the run"
        for stats in (out / "shards").glob("*.stats.json"):
            s = json.loads(stats.read_text())
            tar = stats.with_name(s["task_id"] + ".tar")
            with tarfile.open(tar) as t:
                assert len(t.getmembers()) == 3 * s["written"]
            assert pq.read_table(stats.with_name(s["task_id"] + ".parquet")).num_rows == s["input"]
        for tar in (out / "shards").glob("*.tar"):
            with tarfile.open(tar) as t:  # any tar under a final name parses to EOF
                t.getmembers()
        mtimes = {p.name: p.stat().st_mtime_ns for p in (out / "shards").glob("*.tar")}

        r = run(args)
        assert r.returncode == 0, r.stderr[-2000:]
    keys = [k for f in sorted((out / "shards").glob("*.parquet")) for k in pq.read_table(f)["key"].to_pylist()]
    assert len(keys) == 24 and len(set(keys)) == 24
    assert not list((out / "shards").glob(".*"))
    for name in done_before:  # complete tasks were not rewritten
        tar = name.replace(".stats.json", ".tar")
        assert (out / "shards" / tar).stat().st_mtime_ns == mtimes[tar]


def test_engine_local_refuses_a_cluster_address(tmp_path, capsys):
    from humanverse.cli import main

    rc = main(["curate", "--input", "x.parquet", "--output", str(tmp_path / "o"), "--preset", "demo",
               "--engine", "local", "--address", "ray://head:10001"])
    assert rc == 2 and "--engine local" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
