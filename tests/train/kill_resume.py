"""Kill a real `humanverse train <method>` process after its first checkpoint, then resume it: shared by the
methods' kill/resume tests so each one tests its method, not its own copy of the process handling."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from humanverse.train.common.checkpoints import latest_checkpoint, read_state

ROOT = Path(__file__).resolve().parents[2]


def train_cli(method: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "humanverse.train.common.cli", method, *args]


def cli_env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}


def kill_after_first_checkpoint(method: str, args: list[str], run_dir: Path, timeout: float = 240) -> int:
    """Start the trainer, SIGKILL it once a complete checkpoint exists; returns that checkpoint's step."""
    proc = subprocess.Popen(train_cli(method, *args), env=cli_env(), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while latest_checkpoint(run_dir) is None:
            assert proc.poll() is None, "trainer exited before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint within the time limit"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return read_state(latest_checkpoint(run_dir))["step"]


def resume(method: str, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
    """The same command with --resume latest, run to completion."""
    return subprocess.run(train_cli(method, *args, "--resume", "latest"), env=cli_env(), cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
