"""`humanverse eval` end to end with tiny random models: generate from held-out shards, score, report, resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from humanverse.eval.cli import main as eval_main
from tests.eval.conftest import tiny_eval_config

ROOT = Path(__file__).resolve().parents[2]


def _config_file(models, path: Path) -> str:
    path.write_text(yaml.safe_dump(tiny_eval_config(models).model_dump(mode="json")))
    return str(path)


def test_two_stage_eval_writes_metrics_grid_and_cache(eval_models, eval_shards, trained_runs, tmp_path, capsys):
    out = tmp_path / "ev"
    code = eval_main(["--lsd", str(trained_runs / "lsd"), "--refiner", str(trained_runs / "refiner"),
                      "--data", *eval_shards, "--num-samples", "4", "--output", str(out), "--steps", "2",
                      "--refiner-steps", "1", "--guidance", "2", "--config", _config_file(eval_models, tmp_path / "c.yaml")])
    assert code == 0
    err = capsys.readouterr().err
    assert "eval: generating: 1/4 images" in err and "eval: generating: 4/4 images" in err
    assert "stage 1:" not in err  # the per-image bar only: no nested step bars in eval's log
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_samples"] == 4 and metrics["size"] == 64  # the refiner's resolution
    for name in ("fid", "kid", "kid_std", "fid_clip", "clip_score"):
        assert np.isfinite(metrics[name]), name
    assert metrics["fid"] > 0 and 0 <= metrics["clip_score"] <= 100
    assert 0 <= metrics["pose"]["pck"] <= 1 and metrics["pose"]["scored"] > 0
    generated = sorted((out / "generated").glob("*.png"))
    assert len(generated) == 4 and all(np.asarray(Image.open(p)).shape == (64, 64, 3) for p in generated)
    page = (out / "index.html").read_text()
    assert page.count("<tr>") == 5 and page.count("data:image/jpeg") == 12  # header + 4 x (condition, generated, real)
    assert not list(out.rglob(".*.tmp*"))
    # the same command again: every image comes from the cache, and the settings guard holds
    assert eval_main(["--lsd", str(trained_runs / "lsd"), "--refiner", str(trained_runs / "refiner"), "--data",
                      *eval_shards, "--num-samples", "4", "--output", str(out), "--steps", "2", "--refiner-steps", "1",
                      "--guidance", "2", "--config", str(tmp_path / "c.yaml")]) == 0
    assert [p.stat().st_mtime_ns for p in generated] == [p.stat().st_mtime_ns for p in sorted((out / "generated").glob("*.png"))]
    with pytest.raises(ValueError, match="other settings"):
        eval_main(["--lsd", str(trained_runs / "lsd"), "--data", *eval_shards, "--num-samples", "4", "--output",
                   str(out), "--steps", "3", "--config", str(tmp_path / "c.yaml")])


@pytest.mark.slow  # ~28 s in the default suite; run with -m slow
def test_killed_eval_resumes_from_its_cached_images(eval_models, eval_shards, trained_runs, tmp_path):
    out = tmp_path / "ev"
    args = [sys.executable, "-m", "humanverse.eval.cli", "--lsd", str(trained_runs / "lsd"), "--data", *eval_shards,
            "--num-samples", "6", "--output", str(out), "--steps", "2", "--guidance", "2",
            "--config", _config_file(eval_models, tmp_path / "c.yaml")]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while len(list((out / "generated").glob("*.png"))) < 2:
            assert proc.poll() is None, "eval exited before generating two images"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in (out / "generated").glob("*.png")}
    assert 2 <= len(before) < 6 and not (out / "metrics.json").exists()
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{len(before)} of 6 images cached; generating {6 - len(before)}" in done.stderr
    after = {p.name: p.stat().st_mtime_ns for p in (out / "generated").glob("*.png")}
    assert len(after) == 6 and all(after[name] == stamp for name, stamp in before.items())
    assert json.loads((out / "metrics.json").read_text())["num_samples"] == 6
    assert not list((out / "generated").glob(".*"))  # no half-written image under any name


def test_force_discards_images_and_features_of_other_settings(tmp_path):
    from humanverse.eval.run import _check_resume

    out = tmp_path / "ev"
    (out / "generated").mkdir(parents=True)
    (out / "features").mkdir()
    _check_resume(out, {"seed": 0}, force=False)
    (out / "generated" / "k.png").write_bytes(b"png")
    (out / "features" / "generated-x.npz").write_bytes(b"npz")
    _check_resume(out, {"seed": 0}, force=False)  # same settings: the cache stays
    assert (out / "generated" / "k.png").exists()
    with pytest.raises(ValueError, match="seed"):
        _check_resume(out, {"seed": 1}, force=False)
    _check_resume(out, {"seed": 1}, force=True)
    assert not list((out / "generated").iterdir()) and not list((out / "features").iterdir())
    assert json.loads((out / "eval.json").read_text()) == {"seed": 1}
