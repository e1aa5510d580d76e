"""`humanverse eval` checks every metric and pose weight before generating anything, and `--offline` runs on
random-weight metric networks it builds itself, labelled as such."""

from __future__ import annotations

import json

import pytest

from humanverse.cli import main as cli_main


def test_missing_metric_and_pose_weights_exit_2_listing_all_before_generating(eval_shards, tmp_path, capsys):
    out = tmp_path / "ev"
    code = cli_main(["eval", "--lsd", str(tmp_path / "no-such-run"), "--data", *eval_shards, "--num-samples", "4",
                     "--output", str(out), "--models-dir", str(tmp_path / "empty-models")])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    for name in ("weights-inception-2015-12-05-6726825d.pth", "vit_large_patch14_clip_224.openai",
                 "vitpose-h-wholebody.safetensors"):
        assert name in err, name
    assert not out.exists()  # nothing generated, nothing written


@pytest.mark.slow
def test_offline_self_check_builds_random_networks_and_labels_every_figure(eval_shards, tmp_path):
    out = tmp_path / "ev"
    code = cli_main(["eval", "--self-check", "--offline", "--size", "64", "--data", *eval_shards,
                     "--num-samples", "4", "--output", str(out), "--models-dir", str(tmp_path / "models")])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["random_weights"] is True and "mean nothing" in metrics["definitions"]["random_weights"]
    assert "OFFLINE: random-weight metric networks" in (out / "index.html").read_text()
    assert (tmp_path / "models" / "demo" / "eval-random" / ".built-v1").exists()
