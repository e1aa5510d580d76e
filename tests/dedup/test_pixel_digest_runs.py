"""The pixel digest definition is part of a run (imaging/pixel_digest.py): a new run records xxh3_128, a run
curated before definitions were recorded (sha256, no record in run.json) keeps sha256 when resumed, exact
dedup finds duplicates across its old and new shards, and an output whose shards mix definitions is refused
rather than silently missing the duplicates across them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from humanverse import cli
from humanverse.dedup import passes
from humanverse.dedup.config import DedupConfig
from humanverse.dedup.exact import MixedPixelDigests
from humanverse.dedup.executor import LocalExecutor
from humanverse.imaging import pixel_digest
from humanverse.shards import run_manifest
from humanverse.shards.untrusted import decode_array
from tests.dedup.conftest import copies_input, curate_copies, ok_rows
from tests.support.laion_input import ultralytics_assets

# only what decides the rows and their digests: the annotators are not needed here
LEAN = ["aesthetic.enabled=false", "nsfw.enabled=false", "outpaint.mode=never", "pose=null", "mask=null",
        "depth=null", "normal=null", "hands=null"]
OLD_TASK = "00000-00000"  # original + the same url with tracking noise: curated by the old run
NEW_TASK = "00000-00001"  # the same bytes elsewhere + resized: curated by the resumed run


def _shard_files(out: str, task_id: str) -> list[Path]:
    return [Path(out) / "shards" / f"{task_id}{suffix}" for suffix in (".tar", ".parquet", ".stats.json")]


def _rows(out: str, task_id: str) -> list[dict]:
    table = pq.read_table(Path(out) / "shards" / f"{task_id}.parquet")
    return [r for r in table.to_pylist() if r["status"] == "ok"]


@pytest.fixture(scope="module")
def old_run(tmp_path_factory, dup_server):
    """A run as a version before recorded definitions wrote it: sha256 digests by the decode stage's own
    path, a run.json without `pixel_digest`. Then its second task is lost (as if killed before it finished)."""
    root = tmp_path_factory.mktemp("oldrun")
    parquet = copies_input(root, dup_server)
    patch = pytest.MonkeyPatch()
    patch.setattr(run_manifest, "CURRENT", "sha256")  # the definition a fresh run took then
    try:
        out = curate_copies(parquet, str(root / "out"), LEAN)
    finally:
        patch.undo()
    record = json.loads(Path(out, "run.json").read_text())
    assert record.pop("pixel_digest") == "sha256"
    Path(out, "run.json").write_text(json.dumps(record, indent=1))
    before = {r["key"]: r["pixel_sha256"] for r in _rows(out, NEW_TASK)}
    for path in _shard_files(out, NEW_TASK):
        path.unlink()
    return parquet, out, before


def test_an_old_run_resumes_with_sha256_and_dedup_matches_across_old_and_new_shards(old_run, tmp_path):
    parquet, old, before = old_run
    out = str(tmp_path / "out")
    shutil.copytree(old, out)
    curate_copies(parquet, out, LEAN)  # resumes: only the lost task runs, with today's code

    assert json.loads(Path(out, "run.json").read_text())["pixel_digest"] == "sha256"
    for task_id in (OLD_TASK, NEW_TASK):
        rows = _rows(out, task_id)
        assert rows and all(len(r["pixel_sha256"]) == 64 and r["pixel_xxh3_128"] is None for r in rows), task_id
    assert {r["key"]: r["pixel_sha256"] for r in _rows(out, NEW_TASK)} == before  # what the old run wrote

    result = passes.run_dedup(out, DedupConfig.model_validate({"methods": ["exact"]}), LocalExecutor())
    marks = {r["key"]: r for r in pq.read_table(f"{out}/dedup/exact.parquet").to_pylist()}
    rows = ok_rows(out)
    copy, original = rows["same bytes elsewhere"], rows["original"]
    assert (copy["task_id"], original["task_id"]) == (NEW_TASK, OLD_TASK)
    assert marks[copy["key"]]["matched"] == original["key"]
    assert marks[copy["key"]]["detail"] == "same pixel sha256"
    assert result.per_method["exact"] == 2 and result.backfilled == 0
    assert json.loads(Path(out, "dedup", "manifest.json").read_text())["run"]["pixel_digest"] == "sha256"


@pytest.mark.slow
def test_the_ray_engine_resumes_an_old_run_with_sha256_too(old_run, ray_local, tmp_path):
    """The definition reaches the Ray engine's decode actors (the stage objects travel to them). ~20 s with Ray started."""
    parquet, old, before = old_run
    out = str(tmp_path / "out")
    shutil.copytree(old, out)
    curate_copies(parquet, out, LEAN, engine="ray")
    assert {r["key"]: (r["pixel_sha256"], r["pixel_xxh3_128"]) for r in _rows(out, NEW_TASK)} == {
        key: (value, None) for key, value in before.items()}


def test_a_new_run_records_xxh3_and_dedup_finds_its_duplicates(dup_run, tmp_path):
    record = json.loads(Path(dup_run, "run.json").read_text())
    assert record["pixel_digest"] == pixel_digest.CURRENT == "xxh3_128"
    rows = ok_rows(dup_run)
    assert all(r["pixel_sha256"] is None and len(r["pixel_xxh3_128"]) == 32 for r in rows.values())
    bus = decode_array((ultralytics_assets() / "bus.jpg").read_bytes(), "RGB")
    assert rows["original"]["pixel_xxh3_128"] == pixel_digest.pixel_digest(bus, "xxh3_128")
    assert rows["same bytes elsewhere"]["pixel_xxh3_128"] == rows["original"]["pixel_xxh3_128"]

    out = tmp_path / "out"
    shutil.copytree(dup_run, out)
    result = passes.run_dedup(str(out), DedupConfig.model_validate({"methods": ["exact"]}), LocalExecutor())
    marks = {r["key"]: r for r in pq.read_table(out / "dedup" / "exact.parquet").to_pylist()}
    assert result.per_method["exact"] == 2
    assert marks[rows["same bytes elsewhere"]["key"]]["detail"] == "same pixel xxh3_128"


def test_shards_of_two_definitions_are_refused_not_silently_compared(old_run, dup_run, tmp_path):
    """A hand-assembled output: the old (sha256) run's first shard beside a new (xxh3_128) run's shards."""
    _, old, _ = old_run
    out = tmp_path / "out"
    shutil.copytree(dup_run, out)
    for path in _shard_files(old, OLD_TASK):
        shutil.copyfile(path, out / "shards" / path.name)
    exact = DedupConfig.model_validate({"methods": ["exact"]})
    with pytest.raises(MixedPixelDigests, match=rf"pixel_sha256 in 1 shard\(s\): {OLD_TASK}; pixel_xxh3_128 in 1 shard\(s\): {NEW_TASK}"):
        passes.run_dedup(str(out), exact, LocalExecutor())
    assert cli.main(["dedup", str(out), "--method", "exact"]) == 2  # a usage error with that message
    urls_only = DedupConfig.model_validate({"methods": ["exact"], "exact": {"pixels": False}})
    assert passes.run_dedup(str(out), urls_only, LocalExecutor()).per_method["exact"] == 1  # the tracking-noise url


def test_a_backfill_computes_the_runs_own_definition(old_run, tmp_path):
    """Rows without fingerprints (a run curated before they were recorded) are hashed from the tar with the
    definition the run records, so they compare with the rows that have theirs."""
    _, old, _ = old_run
    out = tmp_path / "out"
    shutil.copytree(old, out)
    sidecar = out / "shards" / f"{OLD_TASK}.parquet"
    recorded = {r["key"]: r["pixel_sha256"] for r in _rows(str(out), OLD_TASK)}
    table = pq.read_table(sidecar)
    pq.write_table(table.drop_columns(["pixel_sha256", "pixel_xxh3_128", "phash", "phash_mirror"]), sidecar)
    result = passes.run_dedup(str(out), DedupConfig.model_validate({"methods": ["exact"]}), LocalExecutor())
    assert result.backfilled == len(recorded) == 2
    features = pq.read_table(out / "dedup" / "features" / f"{OLD_TASK}.parquet").to_pylist()
    assert {f["key"]: f["pixel_sha256"] for f in features} == recorded  # JPEG sources: the same pixels
    assert all(f["pixel_xxh3_128"] is None for f in features)


def test_a_run_json_naming_an_unknown_definition_is_refused():
    with pytest.raises(run_manifest.ResumeRefused, match="md5"):
        run_manifest.pixel_digest_of({"pixel_digest": "md5"})
    assert run_manifest.pixel_digest_of(None) == pixel_digest.CURRENT
    assert run_manifest.pixel_digest_of({}) == "sha256"
