"""Peak memory and CPU time of a whole process tree (driver + Ray's GCS, raylet and workers), sampled.

A local Ray started by `ray.init()` runs its GCS server and raylet as children of the driver, and the
workers as children of the raylet, so the driver's recursive children are the whole Ray session.

- peak RSS: the largest sum over the tree of resident set sizes at one sample. Shared pages (torch's
  libraries, the plasma object store mapped into every worker) count once per process that touches them.
- peak PSS: the same with shared pages split between their users (/proc/PID/smaps_rollup): what the run
  really occupies.
- CPU seconds: user + system time of every process seen, at its last sample (a worker that exits between
  samples loses at most one interval).
"""

from __future__ import annotations

import os
import threading
import time

import psutil


PSS_NEAR_PEAK = 0.9
"""PSS is read at samples whose RSS sum is at least this share of the peak RSS so far."""
_PSS_FIELDS = {"Pss:": "pss", "Pss_Anon:": "anon", "Pss_File:": "file", "Pss_Shmem:": "shmem"}


def _pss_bytes(pid: int) -> dict[str, int]:
    """PSS and its parts: anon (heaps, the process's own), file (mapped libraries and code), shmem (Ray's
    object store pages this process has touched)."""
    out = dict.fromkeys(_PSS_FIELDS.values(), 0)
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                field = _PSS_FIELDS.get(line.split(" ", 1)[0])
                if field:
                    out[field] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return out


def _label(p: psutil.Process) -> str:
    """What a process is: Ray names its workers (ray::MapWorker(...)), the rest by command."""
    cmd = p.cmdline()
    if not cmd:
        return p.name()
    if cmd[0].startswith("ray::"):  # ray::MapWorker(MapBatches(X)), with .submit while it runs a call
        return cmd[0].removesuffix(".submit")[:80]
    return " ".join(c.rsplit("/", 1)[-1] for c in cmd[:3])[:80]


class TreeSampler:
    def __init__(self, root_pid: int | None = None, interval_s: float = 0.5):
        self.root = psutil.Process(root_pid or os.getpid())
        self.interval_s = interval_s
        self.peak_rss = self.peak_pss = 0
        self.peak_processes = 0
        self.timeline: list[tuple[float, float]] = []
        """(time, CPU seconds of the tree so far) per sample: the CPU of any window of the run."""
        self.at_peak_pss: list[dict] = []
        """Every process at the sample with the largest PSS: where the memory goes."""
        self.cpu_by_pid: dict[int, float] = {}
        self.labels: dict[int, str] = {}
        self._own_cpu = 0.0
        self.by_process_timeline: list[tuple[float, dict[int, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="tree-sampler")

    def __enter__(self) -> TreeSampler:
        t = self.root.cpu_times()
        self._root_before = t.user + t.system  # the driver's time before the run is not the run's
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval_s)

    def sample(self) -> None:
        """RSS and CPU of every process (cheap: psutil), then PSS (smaps_rollup: ~3 ms of kernel time per
        process, 40 ms for a Ray tree) only when the RSS sum is within PSS_NEAR_PEAK of its peak so far,
        so the sampler does not take the cores it measures."""
        procs = [self.root]
        try:
            procs += self.root.children(recursive=True)
        except psutil.Error:
            pass
        seen = []
        for p in procs:
            try:
                with p.oneshot():
                    one_rss = p.memory_info().rss
                    t = p.cpu_times()
                    self.cpu_by_pid[p.pid] = t.user + t.system - (self._own_cpu if p.pid == os.getpid() else 0.0)
                self.labels[p.pid] = _label(p)
            except psutil.Error:
                continue
            seen.append((p.pid, one_rss))
        rss = sum(one_rss for _, one_rss in seen)
        self.timeline.append((time.time(), sum(self.cpu_by_pid.values())))
        self.by_process_timeline.append((time.time(), dict(self.cpu_by_pid)))
        self.peak_rss = max(self.peak_rss, rss)
        self.peak_processes = max(self.peak_processes, len(procs))
        if rss >= PSS_NEAR_PEAK * self.peak_rss:
            self._sample_pss(seen)
        self._own_cpu = time.thread_time()  # this thread's CPU is the bench's, not the run's

    def _sample_pss(self, seen: list[tuple[int, int]]) -> None:
        pss, each = 0, []
        for pid, one_rss in seen:
            parts = _pss_bytes(pid)
            pss += parts["pss"]
            each.append({"process": self.labels[pid], "rss_mib": round(one_rss / 2**20),
                         "pss_mib": round(parts["pss"] / 2**20),
                         **{f"{k}_mib": round(v / 2**20) for k, v in parts.items() if k != "pss"}})
        if pss > self.peak_pss:
            self.peak_pss, self.at_peak_pss = pss, sorted(each, key=lambda e: -e["pss_mib"])

    def cpu_between(self, t0: float, t1: float) -> float | None:
        """CPU seconds the tree used between two wall-clock times (nearest samples, 0.5 s apart)."""
        if len(self.timeline) < 2 or t1 <= t0:
            return None

        def at(t: float) -> float:
            return min(self.timeline, key=lambda sample: abs(sample[0] - t))[1]

        return at(t1) - at(t0)

    def cpu_by_process_between(self, t0: float, t1: float) -> dict[str, float]:
        """CPU seconds per kind of process between two wall-clock times (nearest samples): who uses the
        cores in a steady window, the pipeline's work or Ray's own processes."""
        if len(self.by_process_timeline) < 2 or t1 <= t0:
            return {}

        def at(t: float) -> dict[int, float]:
            return min(self.by_process_timeline, key=lambda sample: abs(sample[0] - t))[1]

        start, end = at(t0), at(t1)
        return self._by_label({pid: cpu - start.get(pid, 0.0) for pid, cpu in end.items()})

    def cpu_by_process(self) -> dict[str, float]:
        """CPU seconds per kind of process over the whole run (the driver's include its time before)."""
        return self._by_label(self.cpu_by_pid)

    def _by_label(self, cpu_by_pid: dict[int, float]) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, cpu in cpu_by_pid.items():
            label = self.labels.get(pid, str(pid))
            out[label] = round(out.get(label, 0.0) + cpu, 2)
        return dict(sorted(out.items(), key=lambda item: -item[1]))

    def result(self) -> dict:
        return {
            "peak_rss_gib": self.peak_rss / 2**30,
            "peak_pss_gib": self.peak_pss / 2**30,
            "peak_processes": self.peak_processes,
            "at_peak_pss": self.at_peak_pss,
            "cpu_s": sum(self.cpu_by_pid.values()) - getattr(self, "_root_before", 0.0),
            "cpu_s_by_process": self.cpu_by_process(),
            "sampled_at": time.time(),
        }
