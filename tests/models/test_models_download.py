"""`humanverse models download` end to end against a loopback server speaking the Hub's HTTP API (run in a
subprocess: huggingface_hub reads HF_ENDPOINT once at import). Only the loader's files are fetched, each is
checked against its pinned sha256, a dropped connection still ends in a complete file, a gated repo ends with
what to do, and nothing partial or wrong is left under a final name."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.hub_server import FakeHub

CLIP_REPO = "timm/vit_large_patch14_clip_224.openai"
MIDAS_REPO = "Intel/dpt-hybrid-midas"
REPO_ROOT = Path(__file__).resolve().parents[2]

_RUN = """
import dataclasses, json, sys
import humanverse.models.registry as reg, humanverse.models.cli as mcli
pins = json.loads(sys.argv[1])
reg.REGISTRY = tuple(dataclasses.replace(e, sha256=pins.get(e.name, e.sha256)) for e in reg.REGISTRY)
mcli.REGISTRY = reg.REGISTRY
from humanverse.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _download(hub: FakeHub, tmp_path: Path, names: list[str], pins: dict) -> subprocess.CompletedProcess:
    import json

    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "0", "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "200"}
    env.pop("HF_TOKEN", None)
    args = [a for n in names for a in ("--name", n)]
    return subprocess.run([sys.executable, "-c", _RUN, json.dumps(pins), "models", "download", *args,
                           "--models-dir", str(tmp_path / "models")], env=env, capture_output=True, text=True,
                          timeout=120)


def _snapshot(tmp_path: Path, repo: str) -> Path:
    snaps = list((tmp_path / "hf" / "hub" / f"models--{repo.replace('/', '--')}" / "snapshots").glob("*"))
    assert len(snaps) == 1, snaps
    return snaps[0]


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_only_the_loader_files_land_under_their_names_checked_and_resumed(tmp_path):
    weights, midas = os.urandom(400_000), os.urandom(300_000)
    repos = {
        CLIP_REPO: {"open_clip_pytorch_model.bin": weights, "open_clip_config.json": b"{}", "README.md": b"x"},
        MIDAS_REPO: {"config.json": b'{"a": 1}', "preprocessor_config.json": b"{}", "model.safetensors": midas,
                     "pytorch_model.bin": os.urandom(1000), "tf_model.h5": os.urandom(1000)},
    }
    with FakeHub(repos) as hub:
        hub.cut_after["model.safetensors"] = 100_000  # the first transfer of it dies a third of the way in
        pins = {"clip-vit-l-14-openai": {"open_clip_pytorch_model.bin": _sha(weights)},
                "dpt-hybrid-midas": {"model.safetensors": _sha(midas)}}
        r = _download(hub, tmp_path, ["clip-vit-l-14-openai", "dpt-hybrid-midas"], pins)
    assert r.returncode == 0, r.stdout + r.stderr
    clip = _snapshot(tmp_path, CLIP_REPO)
    assert sorted(p.name for p in clip.iterdir()) == ["open_clip_pytorch_model.bin"]
    assert (clip / "open_clip_pytorch_model.bin").read_bytes() == weights
    mid = _snapshot(tmp_path, MIDAS_REPO)
    assert sorted(p.name for p in mid.iterdir()) == ["config.json", "model.safetensors", "preprocessor_config.json"]
    assert (mid / "model.safetensors").read_bytes() == midas
    gets = [q for q in hub.requests if q[0] == "GET" and q[1].endswith("/model.safetensors")]
    assert len(gets) == 2  # the dropped transfer was taken up again, not given up
    assert not list((tmp_path / "hf").rglob("*.incomplete"))


def test_a_wrong_digest_is_an_error_and_leaves_no_file_under_the_final_name(tmp_path):
    with FakeHub({CLIP_REPO: {"open_clip_model.safetensors": b"not the pinned bytes"}}) as hub:
        r = _download(hub, tmp_path, ["clip-vit-l-14-openai"], {"clip-vit-l-14-openai": {"open_clip_model.safetensors": "0" * 64}})
    assert r.returncode == 1
    assert "sha256 mismatch" in r.stdout
    snaps = list((tmp_path / "hf").rglob("open_clip_model.safetensors"))
    assert all(not p.exists() for p in snaps)


def test_a_gated_repo_ends_with_what_to_do(tmp_path):
    with FakeHub({}, gated={CLIP_REPO}) as hub:
        r = _download(hub, tmp_path, ["clip-vit-l-14-openai"], {})
    assert r.returncode == 1
    out = " ".join(r.stdout.split())
    assert "accept its licence" in out and "HF_TOKEN" in out and f"huggingface.co/{CLIP_REPO}" in out
    assert not list((tmp_path / "hf").rglob("*.bin")) and not list((tmp_path / "hf").rglob("*.safetensors"))


def test_a_model_published_in_another_format_is_fetched_checked_and_imported(tmp_path):
    """The real LAION NSFW zip (kit weights/) served over loopback: downloaded, sha256-checked, imported."""
    import dataclasses

    from rich.console import Console

    from humanverse.models.cli import download
    from humanverse.models.registry import by_name
    from tests.support.http_server import LocalHTTPServer
    from tests.support.realdata import kit_folder

    kit = kit_folder("weights")
    with LocalHTTPServer(kit) as srv:
        entry = dataclasses.replace(by_name("laion-clip-nsfw"), download=srv.url("img/clip_autokeras_binary_nsfw.zip"))
        said = download(entry, tmp_path, Console(file=open(os.devnull, "w")))
        folder = tmp_path / "clip-based-nsfw-detector"
        assert (folder / "clip_autokeras_binary_nsfw.safetensors").is_file() and "imported" in said
        bad = dataclasses.replace(entry, sha256={"clip_autokeras_binary_nsfw.zip": "0" * 64})
        with pytest.raises(ValueError, match="sha256"):
            download(bad, tmp_path / "other", Console(file=open(os.devnull, "w")))
        assert not (tmp_path / "other" / "clip-based-nsfw-detector" / "clip_autokeras_binary_nsfw.zip").exists()
        assert not (tmp_path / "other" / "clip-based-nsfw-detector" / "clip_autokeras_binary_nsfw.safetensors").exists()


def _cli(hub: FakeHub, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf"), "HF_HUB_DISABLE_XET": "1",
           "HF_HUB_DISABLE_TELEMETRY": "1", "PYTHONPATH": str(REPO_ROOT), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-m", "humanverse.cli", "models", *args, "--models-dir",
                           str(tmp_path / "models")], env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow  # ~100 s: eight CLI subprocesses, each importing torch
def test_a_newcomer_goes_from_models_list_to_a_clean_models_check_for_the_humanverse_preset(tmp_path):
    """The README's path, with tiny stand-ins where the real files would be: download what the Hub serves,
    import what is published in other formats (authors'-code fixtures and the real LAION files), place YOLO."""
    from tests.support.realdata import kit_folder

    kit, fixtures = kit_folder("weights"), REPO_ROOT / "tests" / "fixtures"
    repos = {
        CLIP_REPO: {"open_clip_model.safetensors": os.urandom(1000)},
        MIDAS_REPO: {"config.json": b"{}", "preprocessor_config.json": b"{}", "model.safetensors": os.urandom(1000)},
        "stabilityai/stable-diffusion-2-inpainting": {
            "model_index.json": b"{}", "unet/config.json": b"{}", "unet/diffusion_pytorch_model.safetensors": b"u",
            "unet/diffusion_pytorch_model.fp16.safetensors": b"not fetched", "vae/config.json": b"{}",
            "vae/diffusion_pytorch_model.safetensors": b"v", "text_encoder/config.json": b"{}",
            "text_encoder/model.safetensors": b"t", "tokenizer/tokenizer_config.json": b"{}",
            "scheduler/scheduler_config.json": b"{}", "512-inpainting-ema.ckpt": b"not fetched"},
    }
    with FakeHub(repos) as hub:
        assert _cli(hub, tmp_path, "list", "--preset", "humanverse").returncode == 0
        r = _cli(hub, tmp_path, "download", "--name", "clip-vit-l-14-openai", "--name", "dpt-hybrid-midas",
                 "--name", "sd-2-inpainting")
        assert r.returncode == 0, r.stdout + r.stderr
        for name, source in [("laion-clip-nsfw", kit / "clip_autokeras_binary_nsfw.zip"),
                             ("laion-aesthetic-v2", kit / "sac+logos+ava1-l14-linearMSE.pth"),
                             ("vitpose-h-wholebody", fixtures / "vitpose" / "vitposepp_raw.pth"),
                             ("omnidata-depth-v2", fixtures / "omnidata" / "omnidata_dpt_depth_v2_tiny.ckpt"),
                             ("omnidata-normal-v2", fixtures / "omnidata" / "omnidata_dpt_normal_v2_tiny.ckpt")]:
            r = _cli(hub, tmp_path, "import", name, str(source))
            assert r.returncode == 0, r.stdout + r.stderr
        (tmp_path / "models" / "yolo11x.pt").write_bytes(b"placed by hand")
        r = _cli(hub, tmp_path, "check", "--preset", "humanverse")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "missing" not in r.stdout and r.stdout.count(" ok ") >= 9
    sd = tmp_path / "models" / "stable-diffusion-2-inpainting"
    assert not (sd / "512-inpainting-ema.ckpt").exists()
    assert not (sd / "unet" / "diffusion_pytorch_model.fp16.safetensors").exists()
