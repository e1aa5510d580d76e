"""A Ray worker's heartbeats reach the run's board as one call per FLUSH_S with the latest state of each
slot, not one call per stage of every task; the board applies them as the single calls did."""

import time

from humanverse.engine.progress import ProgressBoard
from humanverse.engine.ray_ops import Heartbeat


class RecordingBoard(ProgressBoard):
    """The local board, counting the calls a heartbeat makes (a Ray run's board is ray_board.GcsBoard)."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def report(self, changes):
        self.calls.append(dict(changes))
        super().report(changes)


def test_changes_are_sent_together_with_the_latest_state_of_each_slot():
    board = RecordingBoard()
    beat = Heartbeat(None, board=board)
    beat.FLUSH_S = 3600  # this test flushes by hand
    beat.enter("t1", "fetch")
    beat.enter("t1", "decode")
    beat.flush()
    assert len(board.calls) == 1
    (slot, (task, stage, since)), = board.snapshot().items()
    assert (task, stage) == ("t1", "decode") and abs(since - time.time()) < 5
    beat.flush()
    assert len(board.calls) == 1  # nothing changed: no call
    beat.leave()
    beat.flush()
    assert board.snapshot() == {}


def test_the_sender_thread_delivers_without_a_flush_call():
    board = RecordingBoard()
    beat = Heartbeat(None, board=board)
    beat.FLUSH_S = 0.02
    beat.enter("t2", "pose setup")  # a model load that never returns still gets named
    deadline = time.time() + 5
    while not board.snapshot() and time.time() < deadline:
        time.sleep(0.01)
    assert [stage for _, stage, _ in board.snapshot().values()] == ["pose setup"]


def test_without_a_board_heartbeats_are_dropped():
    beat = Heartbeat(None)  # no Ray in this process
    beat.enter("t", "s")
    beat.leave()
    assert beat._sender is None
