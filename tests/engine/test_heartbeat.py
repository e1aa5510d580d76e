"""A Ray worker's heartbeats reach the driver's board as one call per FLUSH_S with the latest state of each
slot, not one remote call per stage of every task; the board applies them as the single calls did."""

import time

from humanverse.engine.progress import ProgressBoardActor
from humanverse.engine.ray_ops import Heartbeat


class FakeRemote:
    def __init__(self, board: ProgressBoardActor):
        self.board, self.calls = board, []

    def remote(self, changes):
        self.calls.append(dict(changes))
        self.board.report(changes)


class FakeBoardHandle:
    def __init__(self):
        self.actor = ProgressBoardActor()
        self.report = FakeRemote(self.actor)


def test_changes_are_sent_together_with_the_latest_state_of_each_slot():
    handle = FakeBoardHandle()
    beat = Heartbeat(None, board=handle)
    beat.FLUSH_S = 3600  # this test flushes by hand
    beat.enter("t1", "fetch")
    beat.enter("t1", "decode")
    beat.flush()
    assert len(handle.report.calls) == 1
    (slot, (task, stage, since)), = handle.actor.snapshot().items()
    assert (task, stage) == ("t1", "decode") and abs(since - time.time()) < 5
    beat.flush()
    assert len(handle.report.calls) == 1  # nothing changed: no call
    beat.leave()
    beat.flush()
    assert handle.actor.snapshot() == {}


def test_the_sender_thread_delivers_without_a_flush_call():
    handle = FakeBoardHandle()
    beat = Heartbeat(None, board=handle)
    beat.FLUSH_S = 0.02
    beat.enter("t2", "pose setup")  # a model load that never returns still gets named
    deadline = time.time() + 5
    while not handle.actor.snapshot() and time.time() < deadline:
        time.sleep(0.01)
    assert [stage for _, stage, _ in handle.actor.snapshot().values()] == ["pose setup"]


def test_without_a_board_heartbeats_are_dropped():
    beat = Heartbeat(None)  # no Ray in this process
    beat.enter("t", "s")
    beat.leave()
    assert beat._sender is None
