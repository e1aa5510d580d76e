"""Item 6 of issue 18: bytes a run reads from storage per byte of the column chunks it needs.

A LAION-like metadata parquet with ROWS rows in ONE row group (as Spark writes them) is planned and read
through the real path (planner.plan -> task_feed.PlanFeed -> task_runner.read_unit -> ParquetURLReader),
locally and on moto's S3 server on 127.0.0.1, counting the bytes that leave storage:
 - local: every read() on the file objects fsspec opens;
 - S3: every ranged GET s3fs sends (S3File._fetch_range), i.e. what an object store would bill.
"Needed" is the compressed size of the column chunks of the columns the reader maps (footer excluded).
For comparison, a few tasks are also read alone (one task per reader pass, as before issue 18).

    .venv/bin/python bench/parquet_read_bytes.py [--rows 1000000] [--rows-per-task 1000]
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import string
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

import common
from humanverse.engine.done_tasks import DoneTasks
from humanverse.engine.planner import plan
from humanverse.engine.task_feed import PlanFeed, iter_units
from humanverse.engine.task_runner import read_unit
from humanverse.sources import columns

BUCKET = "hv-bench"


def laion_like(path: Path, rows: int) -> Path:
    """LAION-2B-en's columns with realistic, poorly compressible URL and caption strings."""
    rng = random.Random(0)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(5000)]
    url = [f"https://img{rng.randint(0, 999)}.example.com/{rng.getrandbits(64):016x}/{rng.choice(words)}.jpg"
           for _ in range(rows)]
    text = [" ".join(rng.choices(words, k=rng.randint(3, 14))) for _ in range(rows)]
    table = pa.table({
        "SAMPLE_ID": pa.array(range(rows), pa.int64()), "URL": url, "TEXT": text,
        "HEIGHT": pa.array([rng.randint(200, 2000) for _ in range(rows)], pa.int32()),
        "WIDTH": pa.array([rng.randint(200, 2000) for _ in range(rows)], pa.int32()),
        "LICENSE": ["?"] * rows, "NSFW": ["UNLIKELY"] * rows,
        "similarity": [rng.random() for _ in range(rows)],
        "punsafe": [rng.random() for _ in range(rows)], "pwatermark": [rng.random() for _ in range(rows)],
        "AESTHETIC_SCORE": [rng.random() * 10 for _ in range(rows)],
        "hash": [rng.getrandbits(62) for _ in range(rows)],  # a column the reader never needs
        "EMBEDDING_NOTE": [rng.choice(words) * 8 for _ in range(rows)],  # nor this one
    })
    pq.write_table(table, path, row_group_size=rows)
    return path


def needed_bytes(path: Path) -> tuple[int, int, list[str]]:
    meta = pq.ParquetFile(path).metadata
    names = pq.ParquetFile(path).schema_arrow.names
    wanted = set(columns.resolve(names, "laion", {}).values())
    need = total = 0
    for rg in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            col = meta.row_group(rg).column(c)
            total += col.total_compressed_size
            if col.path_in_schema in wanted:
                need += col.total_compressed_size
    return need, total, sorted(wanted)


class Counter:
    def __init__(self):
        self.bytes = self.calls = 0


@contextlib.contextmanager
def counting_local(counter: Counter):
    from fsspec.implementations.local import LocalFileOpener

    real_read = LocalFileOpener.read

    def read(self, *a, **k):
        data = real_read(self, *a, **k)
        counter.bytes += len(data)
        counter.calls += 1
        return data

    def readinto(self, b):  # LocalFileOpener forwards it to its file by __getattr__
        n = self.f.readinto(b)
        counter.bytes += n
        counter.calls += 1
        return n

    LocalFileOpener.read, LocalFileOpener.readinto = read, readinto
    try:
        yield
    finally:
        LocalFileOpener.read = real_read
        del LocalFileOpener.readinto


@contextlib.contextmanager
def counting_s3(counter: Counter):
    import s3fs

    real = s3fs.core.S3File._fetch_range

    def fetch(self, start, end):
        data = real(self, start, end)
        counter.bytes += len(data)
        counter.calls += 1
        return data

    s3fs.core.S3File._fetch_range = fetch
    try:
        yield
    finally:
        s3fs.core.S3File._fetch_range = real


def measure(url: str, rows_per_task: int, counting, alone_tasks: int) -> dict:
    plan_counter, run_counter, alone_counter = Counter(), Counter(), Counter()
    with counting(plan_counter):
        p = plan([url], "auto", {}, rows_per_task, None)
    t0 = time.perf_counter()
    rows = tasks = 0
    with counting(run_counter):
        for unit in iter_units(PlanFeed(p, DoneTasks(p))):
            for task in read_unit(unit, {}, None, 0):
                assert task.failed is None, task.failed
                rows += len(task.samples)
                tasks += 1
    seconds = time.perf_counter() - t0
    assert rows == p.total_rows, (rows, p.total_rows)
    picks = [p.tasks[i] for i in range(0, p.num_tasks, max(1, p.num_tasks // alone_tasks))][:alone_tasks]
    t1 = time.perf_counter()
    with counting(alone_counter):
        for spec in picks:
            list(read_unit([spec], {}, None, 0))
    alone_seconds = (time.perf_counter() - t1) / max(1, len(picks))
    return {"tasks": tasks, "rows": rows, "plan_bytes": plan_counter.bytes, "run_bytes": run_counter.bytes,
            "run_reads": run_counter.calls, "run_s": seconds,
            "alone_tasks": len(picks), "alone_bytes_per_task": alone_counter.bytes / max(1, len(picks)),
            "alone_s_per_task": alone_seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rows-per-task", type=int, default=1000)
    parser.add_argument("--alone-tasks", type=int, default=5, help="tasks also read alone, for comparison")
    args = parser.parse_args()
    common.quiet_libraries()
    with tempfile.TemporaryDirectory() as tmp:
        path = laion_like(Path(tmp) / "part-00000.parquet", args.rows)
        need, total, wanted = needed_bytes(path)
        common.say(f"{args.rows} rows, one row group: {path.stat().st_size / 1e6:.1f} MB on disk, "
                   f"needed column chunks {need / 1e6:.1f} MB of {total / 1e6:.1f} MB")
        result = {"machine": common.machine(), "rows": args.rows, "rows_per_task": args.rows_per_task,
                  "file_bytes": path.stat().st_size, "needed_bytes": need, "all_chunks_bytes": total,
                  "needed_columns": wanted}
        result["local"] = measure(str(path), args.rows_per_task, counting_local, args.alone_tasks)
        common.say("local", result["local"])
        result["s3"] = measure_s3(path, args.rows_per_task, args.alone_tasks)
        common.say("s3", result["s3"])
    for where in ("local", "s3"):
        r = result[where]
        r["ratio_run"] = r["run_bytes"] / need
        r["ratio_with_plan"] = (r["run_bytes"] + r["plan_bytes"]) / need
        r["ratio_alone_extrapolated"] = r["alone_bytes_per_task"] * r["tasks"] / need
    common.write_json("parquet-read-bytes", result)
    print(f"local: {result['local']['ratio_run']:.3f}x (with planning {result['local']['ratio_with_plan']:.3f}x); "
          f"s3: {result['s3']['ratio_run']:.3f}x (with planning {result['s3']['ratio_with_plan']:.3f}x)")


def plan_many_files(fs, path: Path, files: int = 64) -> dict:
    """Planning's footer reads over many S3 objects: one thread vs planner.PLAN_THREADS."""
    from humanverse.engine import planner

    small = path.with_name("small.parquet")
    pq.write_table(pq.read_table(path).slice(0, 1000), small)
    for i in range(files):
        fs.put_file(str(small), f"{BUCKET}/many/part-{i:05d}.parquet")
    out = {"files": files}
    for threads in (1, planner.PLAN_THREADS):
        planner.PLAN_THREADS, saved = threads, planner.PLAN_THREADS
        t0 = time.perf_counter()
        p = plan([f"s3://{BUCKET}/many/*.parquet"], "auto", {}, 1000, None)
        out[f"threads_{threads}_s"] = time.perf_counter() - t0
        planner.PLAN_THREADS = saved
        assert len(p.inputs) == files
    return out


def measure_s3(path: Path, rows_per_task: int, alone_tasks: int) -> dict:
    import fsspec
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        fsspec.config.conf["s3"] = {"endpoint_url": endpoint, "key": "testing", "secret": "testing"}
        fs = fsspec.filesystem("s3", skip_instance_cache=True, use_listings_cache=False)
        fs.mkdir(BUCKET)
        fs.put_file(str(path), f"{BUCKET}/{path.name}")
        result = measure(f"s3://{BUCKET}/{path.name}", rows_per_task, counting_s3, alone_tasks)
        result["plan_many"] = plan_many_files(fs, path)
        return result
    finally:
        server.stop()


if __name__ == "__main__":
    main()
