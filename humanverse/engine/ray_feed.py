"""The Ray Data source of a run: the task feed (task_feed.py) as a datasource, one read task per window.

Ray Data's `from_items` puts every task in the object store as its own block before the first runs:
~1 s per 1,000 tasks and ~7 KB of driver memory each, so 2.7M tasks would wait ~40 min. Here the feed
goes to the object store once, and each window's units are made when Ray Data schedules that window,
under its backpressure; the driver holds the window list, never the tasks.
"""

from __future__ import annotations

import pickle

import pyarrow as pa

UNIT_COLUMN = "unit"


def unit_block(unit) -> pa.Table:
    """One read unit (a list of TaskSpec) as a one-row block: pickled, so Ray Data infers no types."""
    return pa.table({UNIT_COLUMN: pa.array([pickle.dumps(unit, protocol=5)], type=pa.binary())})


def _window_blocks(feed_ref, w: int):
    import ray

    for unit in ray.get(feed_ref).units(w):
        yield unit_block(unit)


def feed_dataset(feed, read_cpus: float = 0.05):
    """A Ray Dataset with one row per read unit of the feed, in feed order within each window."""
    import ray
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class FeedDatasource(Datasource):
        """Holds only the feed's object ref and window count: this object travels to workers."""

        def __init__(self, feed_ref, num_windows: int):
            super().__init__()
            self.feed_ref, self.num_windows = feed_ref, num_windows

        def estimate_inmemory_data_size(self):
            return None

        def get_read_tasks(self, parallelism: int, per_task_row_limit=None, data_context=None):
            meta = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
            ref = self.feed_ref
            return [ReadTask(lambda w=w: _window_blocks(ref, w), meta) for w in range(self.num_windows)]

    source = FeedDatasource(ray.put(feed), feed.num_windows)
    return ray.data.read_datasource(source, override_num_blocks=max(1, feed.num_windows), num_cpus=read_cpus)
