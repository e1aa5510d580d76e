"""Issue 26, items 5 and 9: `humanverse dedup` on the hostile run folder (tests/support/hostile_run.py).
Task ids come from checked marker names (a marker's own '../' id names nothing), only OUT/dedup/ is written,
and the fingerprint backfill reads members under the cap (the 200 MiB sparse member is not inflated)."""

from __future__ import annotations

import json
import resource

from humanverse.dedup.config import DedupConfig
from humanverse.dedup.executor import LocalExecutor
from humanverse.dedup.passes import run_dedup
from tests.support.hostile_run import GOOD_KEY, SPARSE_DEPTH, TASK, write_hostile_run


def _files(root):
    return {p.relative_to(root): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_dedup_of_a_pulled_run_stays_inside_it(tmp_path):
    """Old code: the marker's task id '../../victim/shards/00000-00000' read the victim run's sidecar into
    this run's marks and wrote a features file under that id, and 'bad-counts' (a marker without files)
    stopped the pass with FileNotFoundError."""
    run = write_hostile_run(tmp_path)
    victim = run.victim_digest()
    before = {p: t for p, t in _files(tmp_path).items() if not str(p).startswith("pulled/dedup")}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = run_dedup(str(run.out), DedupConfig.model_validate({"methods": ["exact", "perceptual"]}),
                       LocalExecutor(), force=True)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - rss < 150, "a member was read past its cap"
    manifest = json.loads((run.out / "dedup" / "manifest.json").read_text())
    assert [s["task_id"] for s in manifest["shards"]] == [TASK]
    assert result.samples == 6  # the pulled sidecar's ok rows, none of the victim's
    after = {p: t for p, t in _files(tmp_path).items() if not str(p).startswith("pulled/dedup")}
    assert after == before and run.victim_digest() == victim
    written = {str(p.relative_to(run.out / "dedup")) for p in (run.out / "dedup").rglob("*") if p.is_file()}
    assert written <= {"manifest.json", "duplicates.parquet", "exact.parquet", "perceptual.parquet",
                       f"features/{TASK}.parquet"}
    # the backfill reads only the jpg members: the sample with the sparse depth member is fingerprinted too
    import pyarrow.parquet as pq

    features = pq.read_table(run.out / "dedup" / "features" / f"{TASK}.parquet").to_pylist()
    sources = {r["key"]: r["fingerprint_source"] for r in features}
    assert sources[GOOD_KEY] == "dedup" and sources[SPARSE_DEPTH] == "dedup"
