"""`humanverse dedup` end to end on a real curated run (tests/dedup/conftest.py): marks, manifest, resume,
backfill for runs curated before fingerprints, and the refusal of semantic dedup without embeddings."""

import hashlib
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from humanverse import cli
from humanverse.dedup import passes
from humanverse.dedup.config import DedupConfig
from humanverse.dedup.executor import LocalExecutor
from humanverse.dedup.fingerprint import FIELDS
from tests.dedup.conftest import ok_rows


def _copy(run: str, tmp_path: Path) -> str:
    out = tmp_path / "out"
    shutil.copytree(run, out)
    return str(out)


def _marks(out: str) -> dict[str, dict]:
    return {r["key"]: r for r in pq.read_table(f"{out}/dedup/duplicates.parquet").to_pylist()}


def _mtimes(folder: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def test_every_copy_is_marked_against_one_kept_sample(dup_run, tmp_path):
    out = _copy(dup_run, tmp_path)
    rows = ok_rows(out)
    assert set(rows) == {"original", "same url with tracking noise", "same bytes elsewhere", "resized"}
    shards_before = _mtimes(Path(out) / "shards")
    run_json_before = (Path(out) / "run.json").read_bytes()

    assert cli.main(["dedup", out]) == 0

    marks = _marks(out)
    by_caption = {c: marks.get(r["key"]) for c, r in rows.items()}
    # keep rule: highest aesthetic (the three identical copies tie), then pixels, then key -> the original
    assert by_caption["original"] is None
    kept = rows["original"]["key"]
    for caption in ("same url with tracking noise", "same bytes elsewhere", "resized"):
        assert by_caption[caption]["duplicate_of"] == kept, caption
    assert by_caption["same url with tracking noise"]["method"] == "exact"
    assert by_caption["same bytes elsewhere"]["method"] == "exact"
    assert by_caption["resized"]["method"] == "perceptual"  # exact cannot; pHash is identical here

    manifest = json.loads((Path(out) / "dedup" / "manifest.json").read_text())
    assert manifest["samples"] == 4 and manifest["marked"] == 3 and manifest["kept"] == 1
    assert manifest["methods"]["exact"]["marked"] == 2 and manifest["methods"]["perceptual"]["marked"] == 3
    assert manifest["methods"]["semantic"]["marked"] >= 2  # identical pixels, identical (random) CLIP embeddings
    for shard in manifest["shards"]:
        sidecar = Path(out) / "shards" / f"{shard['task_id']}.parquet"
        assert shard["sidecar_sha256"] == hashlib.sha256(sidecar.read_bytes()).hexdigest()
    assert manifest["fingerprints_backfilled"] == 0  # recorded during curation
    for method in ("exact", "perceptual", "semantic"):
        assert (Path(out) / "dedup" / f"{method}.parquet").exists()
    # nothing in the run itself changed
    assert _mtimes(Path(out) / "shards") == shards_before
    assert (Path(out) / "run.json").read_bytes() == run_json_before


def test_a_killed_pass_resumes_and_a_current_result_is_reused(dup_run, tmp_path, monkeypatch):
    out = _copy(dup_run, tmp_path)

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed during the semantic step")

    monkeypatch.setattr(passes, "semantic_matches", killed)
    with pytest.raises(KeyboardInterrupt):
        passes.run_dedup(out, DedupConfig(), LocalExecutor())
    dedup = Path(out) / "dedup"
    assert not (dedup / "manifest.json").exists() and not (dedup / "duplicates.parquet").exists()
    assert (dedup / "exact.parquet").exists() and (dedup / "perceptual.parquet").exists()
    features = _mtimes(dedup / "features")
    monkeypatch.undo()

    result = passes.run_dedup(out, DedupConfig(), LocalExecutor())
    assert result.reused == ["exact", "perceptual"] and result.marked == 3
    assert _mtimes(dedup / "features") == features  # per-shard features were not read again from scratch

    again = passes.run_dedup(out, DedupConfig(), LocalExecutor())
    assert again.reused == ["exact", "perceptual", "semantic"]
    changed = passes.run_dedup(out, DedupConfig.model_validate({"perceptual": {"max_distance": 4}}), LocalExecutor())
    assert "perceptual" not in changed.reused and "exact" in changed.reused
    forced = passes.run_dedup(out, DedupConfig(), LocalExecutor(), force=True)
    assert forced.reused == [] and forced.marked == 3


def test_runs_curated_before_fingerprints_are_backfilled_from_the_tars(dup_run, tmp_path):
    out = _copy(dup_run, tmp_path)
    recorded = {r["key"]: {f: r[f] for f in FIELDS} for r in ok_rows(out).values()}
    for sidecar in (Path(out) / "shards").glob("*.parquet"):  # what an older run's sidecars look like
        table = pq.read_table(sidecar)
        pq.write_table(table.drop_columns([c for c in (*FIELDS, "clip_embedding") if c in table.column_names]), sidecar)

    assert cli.main(["dedup", out, "--method", "exact,perceptual"]) == 0
    manifest = json.loads((Path(out) / "dedup" / "manifest.json").read_text())
    assert manifest["fingerprints_backfilled"] == 4
    features = pq.read_table(sorted((Path(out) / "dedup" / "features").glob("*.parquet"))).to_pylist()
    for f in features:  # JPEG sources: the tar's pixels are the decoded pixels, so the hashes agree
        assert {k: f[k] for k in FIELDS} == recorded[f["key"]]
        assert f["fingerprint_source"] == "dedup"
    assert len(_marks(out)) == 3

    # semantic dedup needs embeddings: asked for explicitly, it is a usage error; by default it is skipped
    assert cli.main(["dedup", out, "--method", "semantic"]) == 2
    assert cli.main(["dedup", out]) == 0
    manifest = json.loads((Path(out) / "dedup" / "manifest.json").read_text())
    assert "semantic" in manifest["skipped_methods"] and "semantic" not in manifest["methods"]


def test_bad_arguments_are_usage_errors(dup_run, tmp_path):
    assert cli.main(["dedup", str(tmp_path / "nothing")]) == 2
    assert cli.main(["dedup", dup_run, "--method", "fuzzy"]) == 2
    assert cli.main(["dedup", dup_run, "--threshold", "semantic=1.5"]) == 2
    assert cli.main(["dedup", dup_run, "--set", "perceptual.bogus=1"]) == 2
    assert not (Path(dup_run) / "dedup").exists()
