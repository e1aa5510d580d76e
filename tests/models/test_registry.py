"""The model manager: check, pin, mismatch, a real download from a local server, and registry/preset agreement."""

import json

import pytest
from rich.console import Console

from humanverse import config as cfgmod
from humanverse.models.registry import REGISTRY, by_name
from humanverse.models.cli import check, fetch_url, selected
from tests.support.http_server import LocalHTTPServer


def test_check_pin_and_detect_a_changed_file(tmp_path):
    entries = selected("humanverse", [])
    (tmp_path / "yolo11x.pt").write_bytes(b"weights v1")
    report = {r["name"]: r for r in check(entries, tmp_path, pin=False)}
    assert report["yolo11x"]["status"] == "ok" and "not pinned" in report["yolo11x"]["detail"]
    assert report["vitpose-h-wholebody"]["status"] == "missing"
    assert "vitpose-h-wholebody.safetensors" in report["vitpose-h-wholebody"]["detail"]

    check(entries, tmp_path, pin=True)
    lock = json.loads((tmp_path / "models.lock.json").read_text())
    assert set(lock) == {"yolo11x/yolo11x.pt"}
    assert {r["name"]: r["status"] for r in check(entries, tmp_path, pin=False)}["yolo11x"] == "ok"

    (tmp_path / "yolo11x.pt").write_bytes(b"weights v2 (a different file)")
    assert {r["name"]: r["status"] for r in check(entries, tmp_path, pin=False)}["yolo11x"] == "mismatch"


def test_fetch_url_streams_to_disk_atomically(tmp_path):
    with LocalHTTPServer() as srv:
        target = tmp_path / "m" / "big.bin"
        fetch_url(srv.url("big/3000000"), target, Console(file=open("/dev/null", "w")))
        assert target.stat().st_size == 3_000_000
        with pytest.raises(Exception):
            fetch_url(srv.url("status/404"), tmp_path / "m" / "nope.bin", Console(file=open("/dev/null", "w")))
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["big.bin"]  # no temporary left behind


def test_every_real_preset_path_is_in_the_registry():
    """If a preset's default weights move, the registry (and `models list`) must move with them."""
    cfg = cfgmod.resolve("humanverse", None, [])
    specs = {e.spec for e in REGISTRY}
    wanted = [cfg.detect.weights, cfg.pose.weights, cfg.depth.midas_weights, cfg.depth.omnidata_weights,
              cfg.normal.weights, cfg.outpaint.model, cfg.clip.weights, cfg.aesthetic.weights, cfg.nsfw.weights]
    assert [w for w in wanted if w not in specs] == []


def test_every_sapiens_preset_path_is_in_the_registry_with_its_licence():
    cfg = cfgmod.resolve("sapiens", None, [])
    by_spec = {e.spec: e for e in REGISTRY if "sapiens" in e.presets}
    wanted = [cfg.detect.weights, cfg.pose.sapiens_weights, cfg.depth.sapiens_weights, cfg.depth.midas_weights,
              cfg.normal.sapiens_weights, cfg.parts.weights, cfg.outpaint.model, cfg.clip.weights,
              cfg.aesthetic.weights, cfg.nsfw.weights]
    assert [w for w in wanted if w not in by_spec] == []
    for spec in (cfg.pose.sapiens_weights, cfg.depth.sapiens_weights, cfg.normal.sapiens_weights, cfg.parts.weights):
        assert "Sapiens2 License" in by_spec[spec].licence and "not Apache" in by_spec[spec].licence
    assert {"vitpose-h-wholebody", "omnidata-depth-v2"}.isdisjoint(e.name for e in selected("sapiens", []))


def test_every_hands_preset_path_is_in_the_registry_under_hands():
    cfg = cfgmod.resolve("hands", None, [])
    names = {e.name for e in selected("hands", [])}
    by_spec = {e.spec for e in REGISTRY if "hands" in e.presets}
    wanted = [cfg.detect.weights, cfg.pose.weights, cfg.clip.weights, cfg.aesthetic.weights, cfg.nsfw.weights]
    assert [w for w in wanted if w not in by_spec] == [] and "mediapipe-selfie-segmentation" in names
    assert {"sd-2-inpainting", "dpt-hybrid-midas", "omnidata-normal-v2"}.isdisjoint(names)  # off in the preset


def test_unknown_names_are_errors():
    with pytest.raises(ValueError, match="unknown model"):
        selected(None, ["nope"])
    with pytest.raises(KeyError):
        by_name("nope")


def test_mediapipe_models_are_listed_with_source_and_licence_and_found_in_the_wheel(tmp_path):
    """The trained models the demo runs ship inside the mediapipe wheel: listed, Apache-2.0, and present."""
    entries = selected("demo", [])
    assert {e.name for e in entries} >= {"mediapipe-holistic", "mediapipe-selfie-segmentation"}
    assert all(e.licence == "Apache-2.0" and "mediapipe==0.10.21" in e.source for e in entries if e.spec.startswith("wheel:"))
    report = check([by_name("mediapipe-holistic"), by_name("mediapipe-selfie-segmentation")], tmp_path, pin=False)
    assert [r["status"] for r in report] == ["ok", "ok"], report
