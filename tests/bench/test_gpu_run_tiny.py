"""bench/gpu_run.py end to end on the CPU with tiny architectures: every stage of the humanverse preset is built,
set up from the preset's config and timed, and the report is written (the GPU run's plumbing, not its figures)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))


@pytest.mark.slow
def test_every_stage_is_timed_on_the_cpu_with_tiny_models(tmp_path):
    import gpu_plan
    import gpu_run

    out = tmp_path / "GPU_RESULTS.md"
    rc = gpu_run.main(["--device", "cpu", "--tiny", "--models-dir", str(tmp_path / "models"), "--out", str(out)])
    results = json.loads(out.with_suffix(".json").read_text())
    rows = {r["stage"]: r for r in results["stages"]}
    assert rc == 0, [r["error"] for r in rows.values() if r["error"]]
    assert set(rows) == set(gpu_plan.STAGES)
    for stage, row in rows.items():
        assert row["units"] > 0 and row["batch_size"] > 0, stage
        assert 0 < row["model_s"] <= row["stage_s"], stage  # the networks' spans fit inside process()
    assert rows["pose"]["units"] == 1.5 * rows["pose"]["batch_size"] * rows["pose"]["batches"]  # persons, 1-2-1-2
    assert rows["detect"]["batch_size"] == 16 and rows["outpaint"]["batch_size"] == 4  # the preset's
    text = out.read_text()
    assert "Not a GPU measurement (tiny mode)" in text and "From measured model seconds" in text
