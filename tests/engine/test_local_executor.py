"""curate() on the local executor: the engine-free logic of a run (row accounting, resume decisions and
refusal, loopback refusal, task-failure reports, outpainting's frame mapping) without starting Ray.
tests/engine/test_curate_e2e.py runs the same pipeline on a real local Ray."""

import io
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import webdataset as wds
from PIL import Image

from humanverse import config as cfgmod
from humanverse.engine.curate import curate
from humanverse.shards.encoding import decode_depth16, decode_normal
from humanverse.shards.run_manifest import ResumeRefused
from tests.engine.test_curate_e2e import demo_cfg, shard_files


def test_local_run_accounts_for_every_row_resumes_and_refuses_a_changed_config(laion_input, tmp_path):
    out = tmp_path / "out"
    result = curate(demo_cfg(), [laion_input], str(out), allow_private_urls=True, engine="local")
    assert result.ok and result.tasks_total == 3 and result.tasks_done == 3
    rows = pq.read_table(sorted((out / "shards").glob("*.parquet"))).to_pylist()
    assert len(rows) == 10 and len({r["key"] for r in rows}) == 10
    c = result.summary["counts"]
    assert c["input"] == 10 and c["ok"] + c["rejected"] + c["error"] == 10 and c["ok"] == 2
    assert json.loads((out / "run.json").read_text())["status"] == "complete"

    before = shard_files(out)
    again = curate(demo_cfg(), [laion_input], str(out), allow_private_urls=True, engine="local")
    assert again.ok and again.tasks_skipped == 3 and again.tasks_done == 0 and shard_files(out) == before

    (out / "shards" / "00000-00001.stats.json").unlink()
    redo = curate(demo_cfg(), [laion_input], str(out), allow_private_urls=True, engine="local")
    assert redo.tasks_skipped == 2 and redo.tasks_done == 1
    after = shard_files(out)
    assert after["00000-00000.tar"] == before["00000-00000.tar"]
    assert after["00000-00001.tar"] != before["00000-00001.tar"]

    with pytest.raises(ResumeRefused, match="different config"):
        curate(demo_cfg("person.max_persons=2"), [laion_input], str(out), allow_private_urls=True, engine="local")
    other = tmp_path / "part-00001.parquet"
    other.write_bytes(Path(laion_input).read_bytes())
    with pytest.raises(ResumeRefused, match="input"):
        curate(demo_cfg(), [laion_input, str(other)], str(out), allow_private_urls=True, engine="local")
    forced = curate(demo_cfg("person.max_persons=2"), [laion_input], str(out), allow_private_urls=True, force=True,
                    engine="local")
    assert forced.ok and forced.tasks_skipped == 3


def test_loopback_refused_without_opt_in(laion_input, tmp_path):
    result = curate(demo_cfg(), [laion_input], str(tmp_path / "out"), engine="local")
    reasons = {r["reason"] for r in pq.read_table(sorted((tmp_path / "out" / "shards").glob("*.parquet"))).to_pylist()}
    assert result.ok and reasons == {"blocked_address"}


def test_failed_tasks_are_reported_not_written(laion_input, tmp_path):
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"not a checkpoint")
    cfg = cfgmod.resolve("demo", None, ["input.rows_per_task=4", "detect.backend=ultralytics",
                                        f"detect.weights={broken}", "run.task_retries=0"])
    result = curate(cfg, [laion_input], str(tmp_path / "out"), allow_private_urls=True, engine="local")
    assert not result.ok and set(result.failed) == {"00000-00000", "00000-00001", "00000-00002"}
    assert all("detect setup" in why for why in result.failed.values())
    out = tmp_path / "out"
    assert not list((out / "shards").glob("*.stats.json"))
    report = json.loads((out / "failed" / "00000-00000.json").read_text())
    assert "detect setup" in report["error"]


def test_outpainted_annotations_come_back_in_the_original_frame(laion_input, tmp_path):
    """outpaint.mode=always: annotators run on the canvas; everything written is in original pixels."""
    out = tmp_path / "out"
    result = curate(demo_cfg("outpaint.mode=always", "outpaint.write_canvas=true", "clip.keep_embeddings=true"),
                    [laion_input], str(out), allow_private_urls=True, engine="local")
    assert result.ok and result.summary["counts"]["ok"] == 2
    rows = pq.read_table(sorted((out / "shards").glob("*.parquet"))).to_pylist()
    for r in rows:
        emb = r.get("clip_embedding")
        if r["status"] == "ok":
            assert len(emb) == 768 and abs(np.linalg.norm(np.asarray(emb, np.float32)) - 1) < 1e-2
        else:
            assert emb is None
    for tar in sorted((out / "shards").glob("*.tar")):
        for s in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False):
            meta = json.loads(s["json"])
            w, h = meta["width"], meta["height"]
            op = meta["outpaint"]
            assert op["applied"] and op["canvas_box"][0] <= 0 and op["canvas_box"][2] >= w
            assert Image.open(io.BytesIO(s["jpg"])).size == (w, h)
            assert decode_depth16(s["depth.png"]).shape == (h, w)
            assert decode_normal(s["normal.png"]).shape == (h, w, 3)
            for person in meta["persons"]:
                assert len(person["keypoints"]) == 133 and len(person["keypoints_outside"]) == 133
                inside = [not o for o in person["keypoints_outside"]]
                kps = np.asarray(person["keypoints"])[inside]
                assert ((kps[:, 0] >= 0) & (kps[:, 0] <= w) & (kps[:, 1] >= 0) & (kps[:, 1] <= h)).all()
            canvas = Image.open(io.BytesIO(s["outpaint.jpg"]))
            cx0, cy0, cx1, cy1 = op["canvas_box"]
            assert canvas.size == (round(cx1 - cx0), round(cy1 - cy0))


def test_in_order_keeps_order_runs_at_once_and_draws_items_only_as_results_are_taken():
    import threading
    import time

    from humanverse.engine.local import in_order

    drawn, running, most = [], [0], [0]
    lock = threading.Lock()

    def items():
        for i in range(12):
            drawn.append(i)
            yield i

    def slow(i):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02 * (i % 3))  # later items often finish first
        with lock:
            running[0] -= 1
        return i * 10

    out = []
    for result in in_order(slow, items(), at_once=2):
        out.append(result)
        assert len(drawn) <= len(out) + 2  # the two running, none read ahead of them
    assert out == [i * 10 for i in range(12)] and most[0] == 2


def test_in_order_hands_an_error_to_the_caller_and_never_blocks_exit_on_a_hung_item():
    import threading

    from humanverse.engine.local import in_order

    hang = threading.Event()

    def work(i):
        if i == 0:
            raise ValueError("bad item")
        hang.wait()  # a download that never returns

    results = in_order(work, range(3), at_once=2)
    with pytest.raises(ValueError, match="bad item"):
        next(results)
    assert all(t.daemon for t in threading.enumerate() if t.name.startswith("humanverse-local-"))
    hang.set()


def test_local_run_with_fetch_tasks_at_once_gives_the_same_shards(laion_input, tmp_path):
    one = curate(demo_cfg(), [laion_input], str(tmp_path / "one"), allow_private_urls=True, engine="local")
    two = curate(demo_cfg("fetch.tasks_per_actor=3"), [laion_input], str(tmp_path / "two"),
                 allow_private_urls=True, engine="local")
    assert one.ok and two.ok and one.summary["counts"] == two.summary["counts"]
    rows = {name: sorted((r["key"], r["status"], r["reason"]) for r in pq.read_table(
        sorted((tmp_path / name / "shards").glob("*.parquet"))).to_pylist()) for name in ("one", "two")}
    assert rows["one"] == rows["two"] and len(rows["two"]) == 10
