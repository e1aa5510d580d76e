"""A curate run's terminal shows our lines only; third-party chatter (C++ lines on descriptor 2, warnings,
other libraries' logs) goes to OUT/logs/, and -v keeps it on the terminal (issue 31 item 9). Real failures
still reach the terminal."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from humanverse import cli
from tests.engine.test_resume_inputs import photo_folder
from tests.support.engine_only import ENGINE_ONLY
from tests.support.laion_input import ultralytics_assets

REPO = Path(__file__).resolve().parents[1]
NOISE = re.compile(r"Traceback|Error|WARNING|W0000")


CHATTER = """
import logging, os, sys, warnings
from humanverse import run_log
from humanverse.console import make_console

logging.basicConfig(level=logging.WARNING)  # as cli.main does
with run_log.third_party_to_log(sys.argv[1], "curate", verbose=sys.argv[2] == "-v") as log:
    # what the libraries do: C++ logging straight to fd 2, a Python warning, another library's logger, a bar
    os.write(2, b"W0000 00:00:1 inference_feedback_manager.cc:114] Feedback manager requires ...\\n")
    warnings.warn("pkg_resources is deprecated as an API", UserWarning)
    logging.getLogger("ray.data").warning("Error occurred during update_execution_metrics")
    print("Loading pipeline components...: 100%", file=sys.stderr)
    # ours
    make_console(stderr=True).print("task 00000-00001 failed: detect setup: no such weights")
    logging.getLogger("humanverse.engine").warning("our own warning, for the log")
    logging.getLogger("humanverse.engine").error("our own problem")
run_log.say_where(log)
os.write(2, b"after the run\\n")  # descriptor 2 is the terminal again
"""


def run_chatter(out: Path, verbose: bool) -> str:
    out.mkdir()  # as curate makes it
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", CHATTER, str(out), "-v" if verbose else "-"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_third_party_output_goes_to_the_log_and_ours_to_the_terminal(tmp_path):
    terminal = run_chatter(tmp_path / "out", verbose=False)
    assert "task 00000-00001 failed" in terminal and "our own problem" in terminal
    assert not NOISE.search(terminal), terminal
    [log] = (tmp_path / "out" / "logs").iterdir()
    assert f"third-party messages: {log}" in terminal and terminal.rstrip().endswith("after the run")
    written = log.read_text()
    for line in ("W0000", "pkg_resources", "update_execution_metrics", "Loading pipeline"):
        assert line in written
    assert "task 00000-00001" not in written and "our own warning, for the log" in written


def test_verbose_keeps_everything_on_the_terminal(tmp_path):
    terminal = run_chatter(tmp_path / "out", verbose=True)
    assert "W0000" in terminal and "pkg_resources" in terminal and "task 00000-00001 failed" in terminal
    assert not (tmp_path / "out" / "logs").exists()


def curate_cli(args: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "humanverse.cli", "curate", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


def sets(*items: str) -> list[str]:
    return [x for s in items for x in ("--set", s)]


def test_failures_still_reach_the_terminal(tmp_path, capfd):
    """A failed task (exit 1) and a refused resume (exit 2) print their messages."""
    folder = photo_folder(tmp_path / "photos", 2)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    common = ["--input", folder, "--output", str(tmp_path / "out"), "--preset", "demo", "--engine", "local"]
    failing = sets(*ENGINE_ONLY, "detect.backend=ultralytics", f"detect.weights={broken}", "run.task_retries=0")
    assert cli.main(["curate", *common, *failing]) == 1
    err = capfd.readouterr().err
    assert "task 00000-00000 failed" in err and "detect setup" in err
    other = photo_folder(tmp_path / "other", 1)
    assert cli.main(["curate", *common[:1], other, *common[2:], *failing]) == 2
    assert "error:" in capfd.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_demo_like_run_prints_nothing_that_looks_like_an_error(engine, tmp_path):
    """Local: MediaPipe pose and mask in this process (TFLite's W0000 lines, protobuf's MessageFactory);
    Ray: the driver's core_worker line. ~40 s each on the shared test machine."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("bus.jpg", "zidane.jpg"):
        (photos / name).write_bytes((ultralytics_assets() / name).read_bytes())
    out = tmp_path / "out"
    models = ["aesthetic.enabled=false", "nsfw.enabled=false", "outpaint.mode=never", "depth=null", "normal=null"]
    done = curate_cli(["--input", str(photos), "--output", str(out), "--preset", "demo", "--engine", engine,
                       *sets(*(models if engine == "local" else ENGINE_ONLY))])
    terminal = done.stdout + done.stderr
    assert done.returncode == 0, terminal
    assert not [line for line in terminal.splitlines() if NOISE.search(line)], terminal
    [log] = (out / "logs").iterdir()
    noise = log.read_text()
    assert "MessageFactory" not in noise  # the cause is fixed (models/protobuf_compat.py), not only hidden
    assert ("W0000" if engine == "local" else "core_worker") in noise
