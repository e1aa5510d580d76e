"""The Ray Data source of a run: one row per window of the task feed (task_feed.py).

Ray Data's `from_items` of every task puts each in the object store as its own block before the first
runs: ~1 s per 1,000 tasks and ~7 KB of driver memory each, so 2.7M tasks would wait ~40 min. Here the
dataset holds only window numbers (one per WINDOW_TASKS plan positions: 2,700 rows for 2.7M tasks); the
feed itself travels once, to the read actor (ray_ops.ReadTasks), which makes each window's read units
when Ray Data hands it that window, under Ray Data's backpressure. No read tasks, so no extra worker
process to start before the first task.
"""

from __future__ import annotations

WINDOW_COLUMN = "window"


def window_dataset(feed):
    """A Ray Dataset with one row (and one block) per window of the feed, in order."""
    import ray

    windows = max(1, feed.num_windows)
    return ray.data.from_items([{WINDOW_COLUMN: w} for w in range(windows)], override_num_blocks=windows)
