"""--retry-failed (on the local executor) re-attempts only transient failures, keeps keys unique, and touches nothing else."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from humanverse import config as cfgmod
from humanverse.engine.curate import curate
from tests.support.laion_input import HOG_DETECT

pytestmark = pytest.mark.reliability


def test_retry_failed_only_transient_rows(image_server, tmp_path):
    srv = image_server
    rows = [
        (srv.url("img/bus.jpg"), "ok"),
        (srv.url("flaky/rf-a/1"), "flaky a"),  # 503 once, then an image
        (srv.url("status/404"), "dead"),
        (srv.url("flaky/rf-b/1"), "flaky b"),
        (srv.url("img/zidane.jpg"), "no person"),
    ]
    p = tmp_path / "in.parquet"
    pq.write_table(pa.table({"URL": [u for u, _ in rows], "TEXT": [t for _, t in rows]}), p)
    # HOG pinned: the captions below ("ok" = bus kept, "no person" = zidane) are its decisions
    cfg = cfgmod.resolve("demo", None, ["input.rows_per_task=3", "fetch.download.retries=0", *HOG_DETECT])
    out = tmp_path / "out"

    first = curate(cfg, [str(p)], str(out), allow_private_urls=True, engine="local")
    assert first.ok and first.summary["counts"]["transient_errors"] == 2
    tars_before = {f.name: f.stat().st_mtime_ns for f in (out / "shards").glob("*.tar")}

    retry = curate(cfg, [str(p)], str(out), allow_private_urls=True, retry_failed=True, engine="local")
    assert retry.ok and retry.tasks_done == 2  # one retry shard per source shard with transient errors
    assert {f.name: f.stat().st_mtime_ns for f in (out / "shards").glob("*.tar")
            if "retry" not in f.name} == tars_before

    table = pq.read_table(sorted((out / "shards").glob("*.parquet"))).to_pylist()
    final = [r for r in table if r["status"] != "retried"]
    assert len(final) == 5 and len({r["key"] for r in final}) == 5  # one final row per key
    by_caption = {r["caption"]: r for r in final}
    assert by_caption["flaky a"]["task_id"].endswith("-retry1")
    assert by_caption["flaky a"]["reason"] != "http_503"  # re-fetched: now a (tiny) image
    assert by_caption["dead"]["reason"] == "http_404" and "retry" not in by_caption["dead"]["task_id"]
    superseded = [r for r in table if r["status"] == "retried"]
    assert {r["caption"] for r in superseded} == {"flaky a", "flaky b"}
    assert all(r["reason"].startswith("retried_in:00000-0000") for r in superseded)
    assert retry.summary["counts"]["input"] == 5 and retry.summary["counts"]["transient_errors"] == 0

    stats = json.loads((out / "shards" / "00000-00000.stats.json").read_text())
    # rows 0-2: bus (ok), flaky a (now retried), 404 (stays an error)
    assert (stats["ok"], stats["retried"], stats["error"], stats["transient_errors"]) == (1, 1, 1, 0)
    assert stats["reasons"] == {"error:fetch:http_404": 1}
    again = curate(cfg, [str(p)], str(out), allow_private_urls=True, retry_failed=True, engine="local")
    assert again.tasks_done == 0  # nothing transient left
