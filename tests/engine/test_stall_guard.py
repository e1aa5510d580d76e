"""The stall guard on a fake iterator: no engine, no sleeping stage, seconds not minutes."""

import time

import pytest

from humanverse.engine.stall_guard import StallError, iter_with_stall_guard


def slow_rows(delays):
    for i, delay in enumerate(delays):
        time.sleep(delay)
        yield i


def test_rows_pass_through_in_order():
    assert list(iter_with_stall_guard(slow_rows([0, 0.05, 0]), dict, stall_timeout_s=5, poll_s=0.01)) == [0, 1, 2]


def test_a_stuck_iterator_raises_naming_stage_and_task():
    active = {"w1": ("00000-00001", "hang", time.time())}
    got = []
    with pytest.raises(StallError, match=r"no progress for 0s: stage hang on task 00000-00001"):
        for row in iter_with_stall_guard(slow_rows([0, 3]), lambda: active, stall_timeout_s=0.3, poll_s=0.05):
            got.append(row)
    assert got == [0]


def test_a_stage_that_started_recently_is_progress_not_a_stall():
    started = time.time()
    # each "stage" starts just now, so the board keeps showing fresh activity while the row is slow
    rows = iter_with_stall_guard(slow_rows([0.6]), lambda: {"w": ("t", "load", time.time())}, stall_timeout_s=0.2,
                                 poll_s=0.05)
    assert list(rows) == [0] and time.time() - started >= 0.6


def test_nothing_active_says_so():
    with pytest.raises(StallError, match="no stage is active"):
        list(iter_with_stall_guard(slow_rows([3]), dict, stall_timeout_s=0.2, poll_s=0.05))


def test_an_error_in_the_iterator_reaches_the_caller():
    def broken():
        yield 1
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        list(iter_with_stall_guard(broken(), dict, stall_timeout_s=5, poll_s=0.01))
