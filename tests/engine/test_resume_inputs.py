"""Resume keeps a finished task only when its input is the one it was made from (issue 31 item 1), and
believes a stats marker only with its tar and parquet and counts that add up (issue 26 item 12)."""

import json
import os
import shutil
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

from humanverse import config as cfgmod
from humanverse.engine.curate import curate
from humanverse.shards.run_manifest import ResumeRefused
from tests.support.engine_only import ENGINE_ONLY
from tests.support.laion_input import ultralytics_assets


def cfg(*overrides):
    return cfgmod.resolve("demo", None, ["input.rows_per_task=2", *ENGINE_ONLY, *overrides])


def photo_folder(path: Path, n: int, size=(64, 48)) -> str:
    """n small images (rejected as too small: the run is about bookkeeping, not models)."""
    path.mkdir(parents=True)
    for i in range(n):
        Image.new("RGB", size, (i * 20, 40, 90)).save(path / f"img{i}.png")
    return str(path)


def sidecar_inputs(out: Path) -> set[str]:
    rows = pq.read_table(sorted((out / "shards").glob("*.parquet"))).to_pylist()
    return {r["input"] for r in rows}


def test_force_with_another_folder_redoes_its_tasks_and_drops_the_old_rows(tmp_path, capsys):
    out = tmp_path / "out"
    first = photo_folder(tmp_path / "first", 2)
    assert curate(cfg(), [first], str(out), engine="local").summary["counts"]["input"] == 2
    second = photo_folder(tmp_path / "second", 5)

    with pytest.raises(ResumeRefused, match="different input list .*second"):
        curate(cfg(), [second], str(out), engine="local")
    forced = curate(cfg(), [second], str(out), force=True, engine="local")
    # today's bug: task 00000-00000 was kept as complete, 4 of 5 rows never processed, the summary the old one's
    assert forced.tasks_skipped == 0 and forced.tasks_done == 3
    assert forced.summary["counts"]["input"] == 5
    assert sidecar_inputs(out) == {second}
    assert "removed" in capsys.readouterr().err


def test_force_keeps_the_tasks_of_unchanged_inputs_and_removes_the_rest(tmp_path):
    out = tmp_path / "out"
    a, b = photo_folder(tmp_path / "a", 3), photo_folder(tmp_path / "b", 2)
    curate(cfg(), [a, b], str(out), engine="local")
    a_tar = (out / "shards" / "00000-00000.tar").stat().st_mtime_ns
    c = photo_folder(tmp_path / "c", 1)
    forced = curate(cfg(), [a, c], str(out), force=True, engine="local")
    assert forced.tasks_skipped == 2 and forced.tasks_done == 1  # a's two tasks kept, c's one run
    assert (out / "shards" / "00000-00000.tar").stat().st_mtime_ns == a_tar
    assert forced.summary["counts"]["input"] == 4 and sidecar_inputs(out) == {a, c}
    assert not (out / "shards" / "00001-00001.tar").exists()  # b's second task: no such task now
    run = json.loads((out / "run.json").read_text())
    assert [i["path"] for i in run["inputs"]] == [a, c] and all(i["identity"] for i in run["inputs"])


def test_an_input_changed_in_place_is_refused_and_redone_with_force(tmp_path):
    out = tmp_path / "out"
    folder = photo_folder(tmp_path / "photos", 2)
    curate(cfg(), [folder], str(out), engine="local")
    # same path, same row count, other content: only its identity says it changed
    Image.new("RGB", (70, 50), (1, 2, 3)).save(Path(folder) / "img1.png")
    os.utime(Path(folder) / "img1.png", (time.time() + 5, time.time() + 5))
    with pytest.raises(ResumeRefused, match="changed since"):
        curate(cfg(), [folder], str(out), engine="local")
    forced = curate(cfg(), [folder], str(out), force=True, engine="local")
    assert forced.tasks_skipped == 0 and forced.tasks_done == 1


def test_a_marker_counts_only_with_its_files_and_counts_that_add_up(tmp_path):
    out = tmp_path / "out"
    folder = photo_folder(tmp_path / "photos", 6)
    first = curate(cfg(), [folder], str(out), engine="local")
    assert first.tasks_done == 3
    shards = out / "shards"
    # a marker without its tar and parquet: the task is redone
    for suffix in (".tar", ".parquet"):
        (shards / f"00000-00000{suffix}").unlink()
    # a marker with its files whose counts cannot be: the task is redone
    bad = json.loads((shards / "00000-00001.stats.json").read_text())
    bad.update(input=1000, ok=1000, written=1000)
    (shards / "00000-00001.stats.json").write_text(json.dumps(bad))
    # a planted shard of a task this plan does not have: never counted
    for suffix in (".tar", ".parquet", ".stats.json"):
        shutil.copyfile(shards / f"00000-00002{suffix}", shards / f"00007-00000{suffix}")
    planted = json.loads((shards / "00007-00000.stats.json").read_text())
    planted.update(task_id="00007-00000", input=500, rejected=500)
    (shards / "00007-00000.stats.json").write_text(json.dumps(planted))

    again = curate(cfg(), [folder], str(out), engine="local")
    assert again.tasks_skipped == 1 and again.tasks_done == 2
    c = again.summary["counts"]
    assert c["input"] == 6 == c["ok"] + c["rejected"] + c["error"]
    assert (shards / "00000-00000.tar").exists()


def test_the_photos_of_the_kit_folder_resume_unchanged(tmp_path):
    """The common case stays cheap and exact: the same folder again is resumed whole, nothing rewritten."""
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copyfile(ultralytics_assets() / "bus.jpg", folder / "bus.jpg")
    out = tmp_path / "out"
    curate(cfg(), [str(folder)], str(out), engine="local")
    again = curate(cfg(), [str(folder)], str(out), engine="local")
    assert again.tasks_skipped == 1 and again.tasks_done == 0


def test_a_resumed_summary_sums_the_markers_folded_as_they_are_read(tmp_path, monkeypatch):
    from humanverse.engine import done_tasks

    out = tmp_path / "out"
    folder = photo_folder(tmp_path / "photos", 5)
    first = curate(cfg(), [folder], str(out), engine="local")
    monkeypatch.setattr(done_tasks, "FOLD_EVERY", 2)  # 3 markers: folded once on the way
    again = curate(cfg(), [folder], str(out), engine="local")
    assert again.tasks_skipped == 3
    for part in ("counts", "reasons", "stages", "tasks"):
        assert again.summary[part] == first.summary[part], part


def test_retry_failed_plans_nothing_from_a_marker_it_does_not_believe(tmp_path):
    import pyarrow as pa

    from humanverse.engine.done_tasks import DoneTasks
    from humanverse.engine.planner import plan
    from humanverse.engine.retry_failed import plan_retries

    folder = photo_folder(tmp_path / "photos", 2)
    p = plan([folder], "auto", {}, 2, None)
    shards = tmp_path / "out" / "shards"
    shards.mkdir(parents=True)
    # a planted marker claiming a transient error, with a sidecar but no tar: not a complete shard
    (shards / "00000-00000.stats.json").write_text(json.dumps(
        {"task_id": "00000-00000", "input": 2, "ok": 1, "error": 1, "transient_errors": 1,
         "source": {"input": folder, "start": 0, "stop": 2}}))
    pq.write_table(pa.table({"status": ["ok", "error"], "transient": [False, True], "input": [folder] * 2,
                             "row": [0, 1]}), shards / "00000-00000.parquet")
    done = DoneTasks.listed(str(tmp_path / "out"), p)
    assert not done.believes("00000-00000")
    assert plan_retries(str(tmp_path / "out"), p, done.believes) == ([], {})
    assert len(plan_retries(str(tmp_path / "out"), p)[0]) == 1  # what trusting every marker did
