"""Item 5 of issue 18: the driver at internet scale, with simulated inputs (no network, one no-op stage).

For each task count N, in a fresh process: N tasks of ROWS_PER_TASK rows in parquet files on local disk
(row groups one task long, so every read unit is one task: the most blocks Ray Data can be handed), then
the driver's real path: planner.plan (files described in parallel) -> DoneTasks.listed (resume's marker
scan) -> ray_executor.ray_rows (window numbers -> ReadTasks -> one cheap stage that rejects every row ->
WriteShards). It reports the seconds to plan, to check resume, to the first finished task, and the driver process's peak RSS, then
stops after FIRST_ROWS tasks (the rest of the run costs the same per task at any N).
`--feed from_items` swaps in the pre-issue-18 source (every task its own block, made up front), the
same wiring otherwise. `--markers M` times resume's scan of a directory holding M stats markers.

    .venv/bin/python bench/driver_scale.py --tasks 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common

ROWS_PER_TASK = 4
FILE_TASKS = 25_000
FIRST_ROWS = 200


LAYOUTS = ("group-per-task", "one-group")
"""group-per-task: a row group per task (the most footer metadata and the most read units);
one-group: each file one row group, as Spark writes LAION's metadata (a read unit per file)."""


def inputs_dir(tasks: int, layout: str = LAYOUTS[0]) -> Path:
    return common.OUT / "driver-inputs" / layout / str(tasks)


def write_inputs(tasks: int, layout: str = LAYOUTS[0]) -> list[str]:
    """Written once by the parent (kept under bench/.out), so the measured driver never holds them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = inputs_dir(tasks, layout)
    if (folder / "complete").exists():
        return sorted(str(p) for p in folder.glob("*.parquet"))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(-(-tasks // FILE_TASKS)):
        n = min(FILE_TASKS, tasks - f * FILE_TASKS) * ROWS_PER_TASK
        table = pa.table({"URL": pa.array([f"http://127.0.0.1:9/{f}/{i}.jpg" for i in range(n)])})
        path = folder / f"part-{f:05d}.parquet"
        group = ROWS_PER_TASK if layout == "group-per-task" else n
        pq.write_table(table, path, row_group_size=group, write_statistics=False)
        paths.append(str(path))
    (folder / "complete").touch()
    return paths


class PeakRSS:
    """This process's RSS, sampled every 50 ms in a thread."""

    def __init__(self):
        import psutil

        self.proc, self.peak, self.stop = psutil.Process(), 0, False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.05)

    def take(self) -> int:
        self.peak = max(self.peak, self.proc.memory_info().rss)
        value, self.peak = self.peak, 0
        return value


def from_items_source(feed):
    """The pre-issue-18 source: every pending task its own block, all made before the first runs (as
    single-task windows of a ListFeed, which the patched ReadTasks then reads one task per row)."""
    import ray

    from humanverse.engine.ray_feed import WINDOW_COLUMN

    return ray.data.from_items([{WINDOW_COLUMN: w} for w in range(feed.num_windows)],
                               override_num_blocks=feed.num_windows)


def cheap_group():
    """One stage group standing in for fetch: rejects every row (no network, no images), ~free."""
    from humanverse.core.group import StageGroup
    from humanverse.core.stage import Resources, Stage

    class SimulatedFetch(Stage):
        name = "fetch"

        def process(self, batch):
            for sample in batch:
                sample.reject(self.name, "simulated")

    res = Resources(num_cpus=0.5, batch_size=64, actors=1)
    return StageGroup("fetch", [SimulatedFetch(res)], res)


def one_run(tasks: int, feed_kind: str, work: Path, layout: str = LAYOUTS[0]) -> dict:
    """In this (fresh) process: plan, resume check, run until FIRST_ROWS tasks are done."""
    from rich.console import Console

    from humanverse.config import CurateConfig
    from humanverse.engine import planner, ray_executor
    from humanverse.engine.done_tasks import DoneTasks
    from humanverse.engine.task_feed import PlanFeed

    rss = PeakRSS()
    out = {"tasks": tasks, "feed": feed_kind, "layout": layout, "rss_start_mb": rss.take() / 2**20}
    t0 = time.perf_counter()
    p = planner.plan([str(inputs_dir(tasks, layout) / "*.parquet")], "auto", {}, ROWS_PER_TASK, None)
    out["files"] = len(p.inputs)
    out["plan_s"] = time.perf_counter() - t0
    assert p.num_tasks == tasks, (p.num_tasks, tasks)
    t1 = time.perf_counter()
    done = DoneTasks.listed(str(work / "out"), p)
    out["resume_check_s"] = time.perf_counter() - t1
    out["rss_after_plan_mb"] = rss.take() / 2**20
    cfg = CurateConfig.model_validate({"run": {"progress": False, "num_cpus": 2}})
    feed = PlanFeed(p, done)
    if feed_kind == "from_items":
        from humanverse.engine.task_feed import ListFeed, iter_units

        feed = ListFeed([spec for unit in iter_units(feed) for spec in unit], window=1)
        ray_executor.window_dataset = from_items_source
    t2, c2 = time.perf_counter(), time.process_time()
    got = 0
    with ray_executor.ray_rows(cfg, [cheap_group()], feed, str(work / "out"), Console(stderr=True), None) as rows:
        out["ray_init_s"] = time.perf_counter() - t2
        for row in rows:
            assert not row["failed"], row
            got += 1
            if got == 1:
                out["first_task_s"] = time.perf_counter() - t2
                out["driver_cpu_to_first_task_s"] = time.process_time() - c2
                out["first_task_after_plan_s"] = time.perf_counter() - t0
                out["rss_to_first_task_mb"] = rss.take() / 2**20
            if got == FIRST_ROWS:
                out["first_rows_s"] = time.perf_counter() - t2
                out["driver_cpu_to_first_rows_s"] = time.process_time() - c2
                break
    out["rss_to_first_rows_mb"] = rss.take() / 2**20
    out["peak_rss_mb"] = max(out["rss_after_plan_mb"], out["rss_to_first_task_mb"], out["rss_to_first_rows_mb"])
    return out


def marker_scan(markers: int, work: Path, beside: bool = True) -> dict:
    """resume's scan of OUT/shards/ holding `markers` stats markers (with `beside`, plus a tar and a
    parquet beside each, as a real run leaves them)."""
    from humanverse.engine.done_tasks import DoneTasks
    from humanverse.engine.planner import InputFile, Plan

    shards = work / "out" / "shards"
    shards.mkdir(parents=True, exist_ok=True)
    files = -(-markers // FILE_TASKS)
    p = Plan([InputFile(f"f{i}", "laion", FILE_TASKS * ROWS_PER_TASK) for i in range(files)], ROWS_PER_TASK)
    t0 = time.perf_counter()
    for i in range(markers):
        spec = p.task(i // FILE_TASKS, i % FILE_TASKS)
        n = spec.stop - spec.start
        # a marker is believed only with counts that add up and the task's rows (engine/done_tasks.py)
        marker = {"task_id": spec.task_id, "input": n, "ok": n, "rejected": 0, "error": 0, "written": n,
                  "source": {"input": spec.input_path, "start": spec.start, "stop": spec.stop}}
        (shards / (spec.task_id + ".stats.json")).write_text(json.dumps(marker))
        for suffix in (".tar", ".parquet") if beside else ():
            (shards / (spec.task_id + suffix)).touch()
    made = time.perf_counter() - t0
    import psutil

    rss0 = psutil.Process().memory_info().rss
    t1 = time.perf_counter()
    done = DoneTasks.listed(str(work / "out"), p)
    seconds = time.perf_counter() - t1
    assert done.count == (markers if beside else 0)  # a marker alone (no tar, parquet) proves nothing
    return {"markers": markers, "directory_entries": (3 if beside else 1) * markers, "scan_s": seconds, "create_s": made,
            "rss_growth_mb": (psutil.Process().memory_info().rss - rss0) / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--feed", choices=("lazy", "from_items"), default="lazy")
    parser.add_argument("--from-items-tasks", type=int, nargs="*", default=[],
                        help="task counts also run with the pre-issue-18 from_items source, for comparison")
    parser.add_argument("--markers", type=int, nargs="*", default=[])
    parser.add_argument("--markers-only", action="store_true",
                        help="the scanned directory holds only the markers (3x quicker to build)")
    parser.add_argument("--layout", choices=LAYOUTS, default=LAYOUTS[0], help=LAYOUTS.__doc__)
    parser.add_argument("--one", nargs=4, metavar=("TASKS", "FEED", "DIR", "LAYOUT"), help=argparse.SUPPRESS)
    parser.add_argument("--scan", nargs=2, metavar=("MARKERS", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    common.quiet_libraries()
    if args.one:
        result = one_run(int(args.one[0]), args.one[1], Path(args.one[2]), args.one[3])
        (Path(args.one[2]) / "result.json").write_text(json.dumps(result))
        return
    if args.scan:
        result = marker_scan(int(args.scan[0]), Path(args.scan[1]), beside=not args.markers_only)
        (Path(args.scan[1]) / "result.json").write_text(json.dumps(result))
        return
    runs = [(n, args.feed) for n in args.tasks] + [(n, "from_items") for n in args.from_items_tasks]
    result = common.read_json("driver-scale") or {}
    result.setdefault("runs", [])
    result.setdefault("scans", [])
    for n, kind in runs:
        write_inputs(n, args.layout)
        with tempfile.TemporaryDirectory(dir=common.OUT if common.OUT.exists() else None) as tmp:
            load = common.load_avg()
            proc = subprocess.run([sys.executable, __file__, "--one", str(n), kind, tmp, args.layout], capture_output=True,
                                  text=True, cwd=common.BENCH)
            if not (Path(tmp) / "result.json").exists():
                sys.stderr.write(proc.stderr[-4000:])
                raise SystemExit(f"run with {n} tasks failed")
            r = json.loads((Path(tmp) / "result.json").read_text())
            # a nonzero exit after the result is written is Ray Data's executor thread outliving the driver
            r.update(exit_code=proc.returncode, load_avg_before=load, load_avg_after=common.load_avg(), date=common.machine()["date"])
            common.say(r)
            result["runs"].append(r)
            common.write_json("driver-scale", result)
    for m in args.markers:
        with tempfile.TemporaryDirectory(dir=common.OUT if common.OUT.exists() else None) as tmp:
            proc = subprocess.run([sys.executable, __file__, "--scan", str(m), tmp,
                                   *(["--markers-only"] if args.markers_only else [])],
                                  capture_output=True, text=True, cwd=common.BENCH)
            if proc.returncode:
                sys.stderr.write(proc.stderr[-4000:])
                raise SystemExit(f"scan of {m} markers failed")
            r = json.loads((Path(tmp) / "result.json").read_text())
            r.update(load_avg=common.load_avg())
            common.say(r)
            result["scans"].append(r)
            common.write_json("driver-scale", result)
    result["machine"] = common.machine()
    common.write_json("driver-scale", result)


if __name__ == "__main__":
    main()
