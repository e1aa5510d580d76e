"""The task feed (task_feed.py) with the planner's read units and the one-pass parquet reader: every
planned row is read exactly once, in plan order, whatever the windows, row groups and resume state.
Ray-free: the Ray datasource only hands these windows out."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from humanverse.engine.done_tasks import MARKER_SUFFIX, DoneTasks
from humanverse.engine.planner import plan
from humanverse.engine.task_feed import ListFeed, PlanFeed, iter_units
from humanverse.engine.task_runner import read_unit
from humanverse.shards.writer import shard_paths
from humanverse.sources import parquet_urls


def ragged_parquet(path, groups: list[int], first: int = 0):
    """A LAION parquet whose row groups hold `groups` rows each (one write per group)."""
    schema = pa.schema([("URL", pa.string()), ("TEXT", pa.string()), ("WIDTH", pa.int64())])
    with pq.ParquetWriter(path, schema) as w:
        at = first
        for n in groups:
            rows = range(at, at + n)
            w.write_table(pa.table({"URL": [f"http://x/{i}.jpg" for i in rows], "TEXT": [f"c{i}" for i in rows],
                                    "WIDTH": list(rows)}, schema=schema), row_group_size=n)
            at += n
    return str(path)


@pytest.fixture
def inputs(tmp_path):
    a = ragged_parquet(tmp_path / "a.parquet", [3, 7, 3, 4])  # 17 rows, no group aligned to 4 past row 0
    b = ragged_parquet(tmp_path / "b.parquet", [8, 8, 1])     # 17 rows, groups aligned to 4
    c = ragged_parquet(tmp_path / "c.parquet", [9])           # one group: one unit
    return [a, b, c]


def test_row_groups_are_planned_and_units_cut_only_at_aligned_boundaries(inputs):
    p = plan(inputs, "auto", {}, 4, None)
    assert [f.row_groups for f in p.inputs] == [(3, 7, 3, 4), (8, 8, 1), (9,)]
    assert p.num_tasks == 5 + 5 + 3
    units = [[t.task_id for t in u] for u in iter_units(PlanFeed(p, DoneTasks(p)))]
    assert units == [
        ["00000-00000", "00000-00001", "00000-00002", "00000-00003", "00000-00004"],  # ragged: one pass
        ["00001-00000", "00001-00001"], ["00001-00002", "00001-00003"], ["00001-00004"],
        ["00002-00000", "00002-00001", "00002-00002"],
    ]


@pytest.mark.parametrize("window", [1, 2, 3, 5, 1000])
def test_every_task_once_in_plan_order_for_any_window(inputs, window):
    p = plan(inputs, "auto", {}, 4, None)
    fed = [t for u in iter_units(PlanFeed(p, DoneTasks(p), window=window)) for t in u]
    assert fed == p.tasks


def test_resume_feeds_exactly_the_tasks_without_a_marker(inputs, tmp_path):
    p = plan(inputs, "auto", {}, 4, None)
    shards = tmp_path / "out" / "shards"
    shards.mkdir(parents=True)
    finished = {"00000-00001", "00000-00004", "00001-00000", "00002-00001"}
    specs = {t.task_id: t for t in p.tasks}
    for t in finished:
        spec = specs[t]
        n = spec.stop - spec.start
        marker = {"task_id": t, "input": n, "ok": 0, "rejected": n, "error": 0, "written": 0,
                  "source": {"input": spec.input_path, "start": spec.start, "stop": spec.stop}}
        (shards / f"{t}.stats.json").write_text(json.dumps(marker))
        (shards / f"{t}.tar").write_text("")
        (shards / f"{t}.parquet").write_text("")
    for junk in ("00000-00002-retry1.stats.json", "1-2.stats.json", "00009-00000.stats.json", "00001-00003.tar"):
        (shards / junk).write_text("{}")
    (shards / "00000-00003.stats.json").write_text("{}")  # a marker without its tar and parquet proves nothing
    done = DoneTasks.listed(str(tmp_path / "out"), p)
    assert done.count == len(finished) == done.believed
    assert shard_paths("o", "00000-00001")["stats"].endswith("/00000-00001" + MARKER_SUFFIX)  # the writer's name
    feed = PlanFeed(p, done, window=2)
    fed = [t.task_id for u in iter_units(feed) for t in u]
    assert fed == [t.task_id for t in p.tasks if t.task_id not in finished]
    assert feed.pending == len(fed)


def test_a_resumed_unit_reads_every_row_of_its_pending_tasks_once(inputs, tmp_path, monkeypatch):
    """Read through read_unit as both executors do: each pending row exactly once, each needed row
    group requested once, the same samples as reading each task alone."""
    p = plan(inputs, "auto", {}, 4, None)
    done = DoneTasks(p)
    done.mark("00000-00002")
    asked: list[tuple[str, int]] = []
    real = pq.ParquetFile.iter_batches

    def counting(self, *args, row_groups=None, **kw):
        asked.extend((id(self), rg) for rg in row_groups)
        return real(self, *args, row_groups=row_groups, **kw)

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", counting)
    tasks = [t for u in iter_units(PlanFeed(p, done, window=3)) for t in read_unit(u, {}, None, 0)]
    assert all(t.failed is None for t in tasks)
    rows = [(s.source["input"], s.source["row"]) for t in tasks for s in t.samples]
    expected = [(t.input_path, r) for t in p.tasks if t.task_id != "00000-00002" for r in range(t.start, t.stop)]
    assert rows == expected
    assert [s.source["url"] for t in tasks for s in t.samples][:3] == ["http://x/0.jpg", "http://x/1.jpg", "http://x/2.jpg"]
    assert len(asked) == len(set(asked)) == 4 + 3 + 1  # every row group of every file, once
    monkeypatch.setattr(pq.ParquetFile, "iter_batches", real)
    alone = parquet_urls.ParquetURLReader("auto", {})
    for t in tasks:
        assert [s.key for s in t.samples] == [s.key for s in alone.read(t.spec)]


def test_a_failing_one_pass_read_falls_back_to_each_task_alone(inputs, monkeypatch):
    p = plan(inputs[2:], "auto", {}, 4, None)
    [unit] = list(iter_units(PlanFeed(p, DoneTasks(p))))

    real = parquet_urls.ParquetURLReader.read_many

    def broken(self, specs):
        """Yields the first task, then the connection drops (read() of one task still works)."""
        yield next(real(self, specs[:1]))
        raise OSError("connection reset")

    monkeypatch.setattr(parquet_urls.ParquetURLReader, "read_many", broken)
    tasks = list(read_unit(unit, {}, None, 0))
    assert [t.task_id for t in tasks] == [t.task_id for t in unit]
    assert [len(t.samples) for t in tasks] == [4, 4, 1] and not any(t.failed for t in tasks)


def test_list_feed_is_windowed_in_order():
    from humanverse.core.task import TaskSpec

    specs = [TaskSpec(f"t{i}", "p", "laion", i, i + 1) for i in range(7)]
    assert [u for u in iter_units(ListFeed(specs, window=3))] == [[s] for s in specs]


def test_digest_and_task_ids_are_those_older_runs_recorded(inputs):
    """Row groups change how tasks are read, never which rows they hold: an output written before read
    units existed resumes (same digest formula, same ids and bounds)."""
    import hashlib
    import json

    p = plan(inputs, "auto", {}, 4, None)
    old = [(f.path, f.format, f.rows) for f in p.inputs] + [13]
    assert p.digest() == hashlib.sha256(json.dumps(old).encode()).hexdigest()
    assert [(t.task_id, t.start, t.stop) for t in p.tasks[:6]] == [
        ("00000-00000", 0, 4), ("00000-00001", 4, 8), ("00000-00002", 8, 12), ("00000-00003", 12, 16),
        ("00000-00004", 16, 17), ("00001-00000", 0, 4)]
