"""bench/SCALE.md, the "Driver at scale" and "Bytes read per byte needed" sections of RESULTS.md, from
bench/.out/driver-scale.json (bench/driver_scale.py) and bench/.out/parquet-read-bytes.json
(bench/parquet_read_bytes.py). A file of its own because those benchmarks run apart from run_all.py (the
1M-task run alone takes minutes); bench/report.py includes it. Rerun: `python bench/scale_report.py`."""

from __future__ import annotations

import common

LAYOUT0 = "group-per-task"
TARGET_FIRST_TASK_S, TARGET_RSS_MB, TARGET_BYTES_RATIO = 60, 2048, 1.1


def _met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def _latest(d: dict) -> list[dict]:
    """A rerun of the same (feed, layout, tasks) replaces the earlier row."""
    return list({(r["feed"], r.get("layout", LAYOUT0), r["tasks"]): r for r in d.get("runs", [])}.values())


def _dates(d: dict) -> str:
    dates = sorted(r["date"] for r in _latest(d) if "date" in r)
    return f"{dates[0]} to {dates[-1][-9:]}" if dates else "?"


def driver_lines(d: dict) -> list[str]:
    m = d.get("machine", {})
    lines = ["## Driver at scale (issue 18, item 5)", "",
             f"bench/driver_scale.py, runs {_dates(d)}, {m.get('cores', '?')} cores shared with other sessions, "
             f"Ray {m.get('versions', {}).get('ray', '?')}. Simulated input: parquet files of 25,000 tasks x 4 rows, "
             "either with a row group per task (group-per-task: the most footer metadata to plan and every task "
             "its own read unit) or one row group per file (one-group: as Spark writes LAION's metadata; a read "
             "unit per file); one stage that rejects every row; the real writer. One run per row, "
             "each in a fresh process with a fresh embedded Ray; the run stops after 200 finished tasks. "
             "'first task' counts from before `ray.init` (Ray start-up and the actors' start-up are in it); "
             "'driver RSS' is the driver process's peak (not Ray's own processes). 'resume check' here is on a "
             "fresh output (nothing to scan); the scan at up to 1M markers is timed below.", "",
             "| feed | row groups | tasks | plan (s) | resume check (s) | Ray up + dataset built (s) | first task (s) | 200 tasks (s) "
             "| driver CPU to first task (s) | driver RSS after plan (MB) | driver peak RSS (MB) | load avg before / after |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    runs = sorted(_latest(d), key=lambda r: (r["feed"], r.get("layout", LAYOUT0), r["tasks"]))
    for r in runs:
        cpu = r.get("driver_cpu_to_first_task_s")
        lines.append(f"| {r['feed']} | {r.get('layout', LAYOUT0)} | {r['tasks']:,} | {r['plan_s']:.2f} | {r['resume_check_s']:.3f} | "
                     f"{r['ray_init_s']:.1f} | {r.get('first_task_s', float('nan')):.1f} | "
                     f"{r.get('first_rows_s', float('nan')):.1f} | {'-' if cpu is None else f'{cpu:.1f}'} | "
                     f"{r['rss_after_plan_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['load_avg_before'][0]} / {r['load_avg_after'][0]} |")
    lazy = [r for r in runs if r["feed"] == "lazy" and r.get("layout", LAYOUT0) == LAYOUT0]
    if lazy:
        first = max(r.get("first_task_s", float("inf")) for r in lazy)
        rss = max(r["peak_rss_mb"] for r in lazy)
        lines += ["", f"Targets, lazy feed, group-per-task, up to {max(r['tasks'] for r in lazy):,} tasks: first task <= "
                  f"{TARGET_FIRST_TASK_S} s: worst {first:.1f} s, {_met(first <= TARGET_FIRST_TASK_S)}; driver RSS <= "
                  f"{TARGET_RSS_MB} MB: worst {rss:.0f} MB, {_met(rss <= TARGET_RSS_MB)}; RSS from the smallest to "
                  f"the largest run: {min(r['peak_rss_mb'] for r in lazy):.0f} -> {lazy[-1]['peak_rss_mb']:.0f} MB."]
    lines += ["", "Reading it: the task count no longer shows in the time to the first task (Ray's own start-up "
              "and the actors' processes, which the machine's load decides, are most of it) nor in the driver's "
              "CPU before it. Driver RSS is flat where inputs look like LAION's (one-group); with a row group "
              "per task it grows with the plan's footer metadata (see RSS after plan), not with "
              "the feed. 'from_items' is the pre-issue-18 source (every task its "
              "own block, made before the first runs), same wiring otherwise; its 100k run's process "
              "segfaulted at exit, after its figures were taken (exit code -11)."]
    scans = list({(s["markers"], s["directory_entries"]): s for s in d.get("scans", [])}.values())
    if scans:
        lines += ["", "Resume's check of completed tasks (`DoneTasks.listed`: one scan of OUT/shards/, a byte per "
                  "task), local disk, one run each; where 'directory entries' is 3x the markers, a tar and a parquet sit "
                  "beside each marker as in a real run:", "",
                  "| markers | directory entries | scan (s) | driver RSS growth (MB) | load avg |", "|---|---|---|---|---|"]
        for s in sorted(scans, key=lambda s: (s["markers"], s["directory_entries"])):
            lines.append(f"| {s['markers']:,} | {s['directory_entries']:,} | {s['scan_s']:.2f} | "
                         f"{s['rss_growth_mb']:.0f} | {s['load_avg'][0]} |")
    return lines


def bytes_lines(b: dict) -> list[str]:
    m = b.get("machine", {})
    lines = ["## Bytes read per byte needed (issue 18, item 6)", "",
             f"bench/parquet_read_bytes.py, {m.get('date', '?')}, load avg {m.get('load_avg', '?')}, pyarrow's "
             f"reader through fsspec. A LAION-like file of {b['rows']:,} rows in ONE row group "
             f"({b['file_bytes'] / 1e6:.1f} MB; the column chunks the reader maps: {b['needed_bytes'] / 1e6:.1f} MB, "
             f"columns {', '.join(b['needed_columns'])}), {b['rows_per_task']:,} rows per task, read through the real "
             "path (plan -> feed -> read_unit). Bytes counted where they leave storage: read() on the local file, "
             "ranged GETs on moto's S3 server on 127.0.0.1. One run each.", "",
             "| storage | tasks | bytes read by the run / needed | with planning's footer reads | reads (GETs) | "
             "a task read alone, x tasks / needed (before) | seconds |", "|---|---|---|---|---|---|---|"]
    for where in ("local", "s3"):
        r = b[where]
        lines.append(f"| {where} | {r['tasks']:,} | {r['ratio_run']:.3f}x | {r['ratio_with_plan']:.3f}x | {r['run_reads']} | "
                     f"{r['ratio_alone_extrapolated']:.0f}x | {r['run_s']:.0f} |")
    many = b["s3"].get("plan_many")
    if many:
        lines += ["", f"Planning {many['files']} parquet objects on the same S3 server (a footer read each): "
                  f"{many['threads_1_s']:.2f} s on one thread, "
                  + ", ".join(f"{v:.2f} s on {k.split('_')[1]} threads" for k, v in many.items()
                              if k.startswith("threads_") and k != "threads_1_s") + " (one run each): no gain on "
                  "loopback, where a footer read costs a few ms of mostly CPU; the threads are for object stores "
                  "whose round trip is tens of ms (not measured here)."]
    worst = max(b[w]["ratio_with_plan"] for w in ("local", "s3"))
    lines += ["", f"Target <= {TARGET_BYTES_RATIO}x: worst {worst:.3f}x, {_met(worst <= TARGET_BYTES_RATIO)}. "
              "'Before' reads each task alone as the pre-issue-18 reader did; that reader read the whole column "
              "chunks for every task (~1,000x here), the one-task pass now stops at the task's last row, "
              "hence half that on average."]
    return lines


def write() -> str | None:
    d, b = common.read_json("driver-scale"), common.read_json("parquet-read-bytes")
    lines: list[str] = []
    if d:
        lines += driver_lines(d) + [""]
    if b:
        lines += bytes_lines(b) + [""]
    if not lines:
        return None
    path = common.BENCH / "SCALE.md"
    path.write_text("\n".join(lines))
    return str(path)


if __name__ == "__main__":
    print(write())
