"""`humanverse models list | check`: full sources and sizes at any width, JSON, the trainers' preset names,
and unknown presets refused (exit 2, with the list)."""

from __future__ import annotations

import json

import pytest

from humanverse.cli import main
from humanverse.models.registry import REGISTRY


@pytest.fixture(autouse=True)
def narrow_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")


def test_list_prints_every_source_and_location_whole_with_sizes_and_a_total(capsys):
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for entry in REGISTRY:
        assert f"  source: {entry.source}" in lines, entry.name
        assert f"  where the code looks: {entry.spec}" in lines, entry.name
    assert "  size: 3.7 MB (3,714,759 bytes)" in lines  # the LAION aesthetic MLP, measured on the real file
    total = [line for line in lines if line.startswith("total: ")]
    assert total == [f"total: {len(REGISTRY)} models, 3.7 MB (3,714,759 bytes) known, "
                     f"{len(REGISTRY) - 1} of unknown size"]


def test_list_json_has_every_field_and_size(capsys):
    assert main(["models", "list", "--preset", "humanverse", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    names = [m["name"] for m in doc["models"]]
    assert "vitpose-h-wholebody" in names and "sd-2-base" not in names
    assert all("size_bytes" in m and "source" in m for m in doc["models"])
    assert doc["total"]["models"] == len(names)


@pytest.mark.parametrize("preset, expected", [
    ("lsd", {"sd-2-base", "openclip-vit-h-14"}),
    ("train_lsd", {"sd-2-base", "openclip-vit-h-14"}),
    ("refiner", {"sdxl-base-1.0"}),
    ("hand", {"sd-2-base", "openclip-vit-h-14"}),
    ("hand-body", {"sd-2-inpainting"}),
    ("eval", {"clip-vit-l-14-openai", "inception-v3-fid", "vitpose-h-wholebody"}),
])
def test_check_takes_the_trainers_preset_names(preset, expected, tmp_path, capsys):
    assert main(["models", "check", "--preset", preset, "--models-dir", str(tmp_path), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)["models"]
    assert {r["name"] for r in report} == expected and {r["status"] for r in report} == {"missing"}


def test_unknown_preset_is_refused_with_the_list(capsys):
    assert main(["models", "check", "--preset", "nonsense"]) == 2
    out = capsys.readouterr().out
    assert "unknown preset 'nonsense'" in out
    for name in ("humanverse", "sapiens", "hands", "demo", "lsd", "refiner", "hand", "hand-body", "eval"):
        assert name in out
