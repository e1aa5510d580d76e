"""One curate per output (issue 26 item 12): a second one is refused before it touches anything; a lock
left by a dead process does not block for ever."""

import json
import subprocess
import sys
import time

import pytest

from humanverse.engine import run_lock
from humanverse.engine.curate import curate
from humanverse.engine.run_lock import RunLock, RunLocked
from tests.engine.test_resume_inputs import cfg, photo_folder


def test_a_second_curate_is_refused_and_leaves_the_first_ones_temporaries(tmp_path):
    out = tmp_path / "out"
    folder = photo_folder(tmp_path / "photos", 2)
    temporary = out / "shards" / ".00000-00000.tar.tmp-1234abcd"
    temporary.parent.mkdir(parents=True)
    temporary.write_bytes(b"the first run is writing this")
    with RunLock(str(out)):  # the first run, still going
        with pytest.raises(RunLocked, match=r"in use: `curate` \(pid \d+"):
            curate(cfg(), [folder], str(out), engine="local")
        assert temporary.exists()  # today: deleted by the second run's clean-up
    result = curate(cfg(), [folder], str(out), engine="local")  # released: runs, and cleans up
    assert result.ok and not temporary.exists() and not (out / "run.lock").exists()


def test_the_lock_of_a_dead_process_is_taken_over(tmp_path, capsys):
    out = tmp_path / "out"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(gone.stdout)
    lock = RunLock(str(out))
    record = json.loads(lock._record())
    (out).mkdir()
    (out / "run.lock").write_text(json.dumps({**record, "pid": dead_pid, "token": "old"}))
    result = curate(cfg(), [photo_folder(tmp_path / "photos", 1)], str(out), engine="local")
    assert result.ok and "took over a stale lock" in capsys.readouterr().err


def test_a_lock_without_a_recent_heartbeat_is_stale_whoever_holds_it():
    now = time.time()
    live_elsewhere = {"host": "another-machine", "pid": 1, "heartbeat_at": now}
    assert not RunLock.stale(live_elsewhere)
    assert RunLock.stale({**live_elsewhere, "heartbeat_at": now - run_lock.STALE_AFTER_S - 1})
    assert RunLock.stale({})  # unreadable or planted junk


def test_the_holder_refreshes_its_heartbeat(tmp_path, monkeypatch):
    monkeypatch.setattr(run_lock, "HEARTBEAT_S", 0.05)
    with RunLock(str(tmp_path)):
        first = json.loads((tmp_path / "run.lock").read_text())["heartbeat_at"]
        time.sleep(0.3)
        assert json.loads((tmp_path / "run.lock").read_text())["heartbeat_at"] > first
    assert not (tmp_path / "run.lock").exists()


def test_a_holder_taken_over_stops_beating_and_leaves_the_new_lock(tmp_path, monkeypatch):
    monkeypatch.setattr(run_lock, "HEARTBEAT_S", 0.2)
    lock = RunLock(str(tmp_path)).acquire()
    (tmp_path / "new").write_text(json.dumps({"token": "someone else", "heartbeat_at": time.time()}))
    (tmp_path / "new").replace(tmp_path / "run.lock")  # before the first beat: no race with it
    time.sleep(0.5)
    assert not lock._thread.is_alive()
    lock.release()  # never removes a lock that is not its own
    assert json.loads((tmp_path / "run.lock").read_text())["token"] == "someone else"
