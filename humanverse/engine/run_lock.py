"""One curate at a time per output: OUT/run.lock names the process that writes there.

A second curate on the same output would delete the first one's in-progress temporaries and race it for
the same shards, so it is refused with who holds the lock. A lock outlives a killed process, so it is
taken over when it is stale: its process is gone (same host), or its heartbeat, refreshed every
HEARTBEAT_S by the holder, is older than STALE_AFTER_S (another host, or a pid reused since).

Local outputs are created with O_EXCL (atomic). Object stores have no such create in fsspec, so there
the lock is written and read back (last writer wins, the loser sees another token and stops): it guards
against the usual mistake (the same command started twice), not against two starts in the same second.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid

import fsspec

from humanverse.shards import atomic
from humanverse.shards.run_manifest import ResumeRefused

LOCK_NAME = "run.lock"
HEARTBEAT_S = 30.0
STALE_AFTER_S = 300.0
MAX_LOCK_BYTES = 4096


class RunLocked(ResumeRefused):
    """Another live curate writes to this output (exit 2, as a refused resume)."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class RunLock:
    def __init__(self, output: str, command: str = "curate"):
        self.url = atomic.join(output, LOCK_NAME)
        self.fs, self.path = fsspec.core.url_to_fs(self.url)
        self.local = atomic.is_local(self.url)
        self.command = command
        self.token = uuid.uuid4().hex
        self.took_over: dict | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _record(self) -> bytes:
        return json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "command": self.command,
                           "token": self.token, "started_at": time.time(), "heartbeat_at": time.time()}).encode()

    def _read(self) -> dict | None:
        try:
            with self.fs.open(self.path, "rb") as f:
                held = json.loads(f.read(MAX_LOCK_BYTES))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # unreadable: treated as stale below (its heartbeat is unknown)
        return held if isinstance(held, dict) else {}

    def _create(self) -> bool:
        """Write our record if no lock exists; False when one does."""
        if self.local:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                return False
            with os.fdopen(fd, "wb") as f:
                f.write(self._record())
            return True
        if self.fs.exists(self.path):
            return False
        atomic.write_bytes(self.url, self._record())
        return self._read_token() == self.token

    def _read_token(self) -> str | None:
        held = self._read()
        return held.get("token") if held else None

    @staticmethod
    def stale(held: dict) -> bool:
        beat = held.get("heartbeat_at")
        if not isinstance(beat, (int, float)) or time.time() - beat > STALE_AFTER_S:
            return True
        pid = held.get("pid")
        return held.get("host") == socket.gethostname() and isinstance(pid, int) and not _alive(pid)

    def acquire(self) -> RunLock:
        if not self._create():
            held = self._read() or {}
            if not self.stale(held):
                since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(held.get("started_at", 0)))
                raise RunLocked(
                    f"{self.url.rsplit('/', 2)[0]} is in use: `{held.get('command', 'curate')}` (pid {held.get('pid')} "
                    f"on {held.get('host')}) has written there since {since}. Wait for it to finish, or use "
                    f"another --output. If that process is gone, the lock is taken over by itself within "
                    f"{STALE_AFTER_S / 60:.0f} minutes (or at once on the same host); or delete {self.url}.")
            self.took_over = held
            atomic.write_bytes(self.url, self._record())
            if self._read_token() != self.token:
                raise RunLocked(f"another command took over the stale lock {self.url} at the same moment")
        self._thread = threading.Thread(target=self._beat, daemon=True, name="humanverse-run-lock")
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            try:
                held = self._read() or {}
                if held.get("token") != self.token:
                    return  # taken over (we were thought dead): never write over the new holder's record
                held["heartbeat_at"] = time.time()
                atomic.write_bytes(self.url, json.dumps(held).encode())
            except OSError:
                pass  # a missed beat only brings staleness closer; the run itself goes on

    def release(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        try:
            if self._read_token() == self.token:
                self.fs.rm_file(self.path)
        except OSError:
            pass

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
