"""A Ray run's progress board lives in the GCS's key-value store (no actor process): what a worker's
heartbeat writes there, the driver reads back, and the run's end clears it."""

import time

import pytest

from humanverse.engine.ray_board import GcsBoard

pytestmark = pytest.mark.usefixtures("ray_local")


def test_enters_and_leaves_read_back_and_clear_removes_the_runs_keys_only():
    board, other = GcsBoard("test-board-a"), GcsBoard("test-board-b")
    now = time.time()
    board.report({"w1:t0": ("00000-00001", "fetch", now), "w2:t0": ("00000-00002", "decode", now + 1)})
    other.report({"w1:t0": ("99999-00001", "pose", now)})
    board.report({"w1:t0": ("00000-00003", "write", now + 2), "w2:t0": None})
    assert board.snapshot() == {"w1:t0": ("00000-00003", "write", now + 2)}
    board.clear()
    assert board.snapshot() == {}
    assert other.snapshot() == {"w1:t0": ("99999-00001", "pose", now)}  # another run's board is untouched
    other.clear()


def test_a_heartbeat_in_a_ray_worker_reaches_the_drivers_board():
    import ray

    @ray.remote(num_cpus=0)
    class Stage:
        def hang_in(self, namespace: str, stage: str) -> str:
            from humanverse.engine.ray_ops import Heartbeat

            self.beat = Heartbeat(namespace)  # the worker finds the board itself, as the pools' workers do
            self.beat.enter("00003-00007", stage)
            return type(self.beat.board).__name__

    board = GcsBoard("test-board-worker")
    worker = Stage.remote()
    try:
        assert ray.get(worker.hang_in.remote("test-board-worker", "pose setup")) == "GcsBoard"
        deadline = time.time() + 30
        while not board.snapshot() and time.time() < deadline:
            time.sleep(0.1)
        ((slot, (task, stage, since)),) = board.snapshot().items()
        assert (task, stage) == ("00003-00007", "pose setup") and abs(since - time.time()) < 30
    finally:
        ray.kill(worker)
        board.clear()
