"""`humanverse models import NAME FILE`: writes what the loaders read plus a json record; bad input exits 2 and
leaves nothing under a final name."""

from __future__ import annotations

import json

import torch

from humanverse.cli import main as cli_main
from humanverse.models.clip.aesthetic_mlp import AestheticMLP, load_aesthetic_mlp


def _run(argv) -> int:
    try:
        return cli_main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def test_import_writes_the_loader_file_and_a_record_beside_it(tmp_path):
    torch.save(AestheticMLP().state_dict(), tmp_path / "sac+logos+ava1-l14-linearMSE.pth")
    code = _run(["models", "import", "laion-aesthetic-v2", str(tmp_path / "sac+logos+ava1-l14-linearMSE.pth"),
                 "--models-dir", str(tmp_path / "models")])
    assert code == 0
    out = tmp_path / "models" / "improved-aesthetic-predictor" / "sac+logos+ava1-l14-linearMSE.pth"
    record = json.loads((out.parent / (out.name + ".import.json")).read_text())
    assert record["source_name"] == out.name and record["source_size"] == out.stat().st_size
    assert len(record["source_sha256"]) == 64 and record["converted"].startswith("none")
    load_aesthetic_mlp(out)


def test_a_wrong_file_or_a_non_importable_name_exits_2_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "junk.zip").write_bytes(b"PK not really")
    models = tmp_path / "models"
    assert _run(["models", "import", "laion-clip-nsfw", str(tmp_path / "junk.zip"), "--models-dir", str(models)]) == 2
    assert "cannot import as laion-clip-nsfw" in capsys.readouterr().out
    assert not models.exists() or not any(p.is_file() for p in models.rglob("*"))
    assert _run(["models", "import", "yolo11x", str(tmp_path / "junk.zip"), "--models-dir", str(models)]) == 2
    assert _run(["models", "import", "laion-clip-nsfw", "--models-dir", str(models)]) == 2
