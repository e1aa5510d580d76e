"""`humanverse export`: the folders load in a fresh process with diffusers alone (humanverse import blocked)
through the model card's own lines, and give the trained models' outputs; loading a checkpoint folder with the
wrong standard class fails loudly."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from diffusers import ControlNetModel, UNet2DConditionModel

from humanverse.train.export.cli import main as export_main
from humanverse.train.common.checkpoints import latest_checkpoint

ROOT = Path(__file__).resolve().parents[2]

FRESH = """
import sys, torch
sys.modules["humanverse"] = None          # diffusers only: any humanverse import now fails
exec(compile(open(sys.argv[1]).read(), "documented-lines", "exec"))
inputs = torch.load(sys.argv[2], weights_only=True)
with torch.no_grad():
    exec(open(sys.argv[3]).read())
torch.save(result, sys.argv[4])
"""


def _documented_lines(export: Path) -> str:
    return re.search(r"```python\n(.*?)```", (export / "README.md").read_text(), re.S).group(1)


def _run_fresh(tmp_path, export, inputs, use) -> object:
    """The card's lines, then `use`, in a new process where humanverse cannot be imported, run from the
    export's parent folder (the card names the export by its folder name: no absolute path)."""
    (tmp_path / "load.py").write_text(_documented_lines(export))
    (tmp_path / "use.py").write_text(use)
    torch.save(inputs, tmp_path / "inputs.pt")
    done = subprocess.run([sys.executable, "-c", FRESH, str(tmp_path / "load.py"), str(tmp_path / "inputs.pt"),
                           str(tmp_path / "use.py"), str(tmp_path / "out.pt")], capture_output=True, text=True,
                          timeout=600, cwd=export.parent,
                          env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
                               "HF_MODULES_CACHE": str(tmp_path / "modules")})
    assert done.returncode == 0, done.stderr[-3000:]
    return torch.load(tmp_path / "out.pt", weights_only=True)


def _shared_safely(export: Path, run: Path) -> None:
    """No absolute local path in what an export shares, no EMA counters in a model config, and the card says
    that trust_remote_code runs the folder's code, naming every .py file with its sha256."""
    import hashlib

    for path in [export / "README.md", export / "export.json", *export.glob("*/config.json")]:
        text = path.read_text()
        assert str(run.parent) not in text and str(export.parent) not in text, path
        if path.name == "config.json":  # a model's config (the training config in the card has an ema section)
            assert '"decay"' not in text and '"optimization_step"' not in text, path
    card, record = (export / "README.md").read_text(), json.loads((export / "export.json").read_text())
    assert "trust_remote_code=True" in card and "runs code" in card
    code = sorted(str(p.relative_to(export)) for p in export.rglob("*.py"))
    assert sorted(record["files"]) == code and code
    for name, digest in record["files"].items():
        assert hashlib.sha256((export / name).read_bytes()).hexdigest() == digest and f"`{name}`" in card


def test_refiner_export_loads_with_diffusers_only(trained_runs, tmp_path):
    from humanverse.train.refiner.sample import load_refiner

    export = tmp_path / "refiner-export"
    assert export_main(["--run", str(trained_runs / "refiner"), "--output", str(export)]) == 0
    card = json.loads((export / "export.json").read_text())
    assert card["stage"] == "refiner" and card["step"] == 1 and len(card["data"]["sha256"]) == 64
    assert card["config"]["data"]["resolution"] == 64 and "data digest" in (export / "README.md").read_text()
    _shared_safely(export, trained_runs / "refiner")

    model = load_refiner(trained_runs / "refiner").controlnet
    with torch.no_grad():  # one training step barely moves the zero convs: make the comparison see everything
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    # re-export the perturbed weights through the same code, from a checkpoint-like folder
    ckpt = tmp_path / "ckpt"
    import shutil

    shutil.copytree(latest_checkpoint(trained_runs / "refiner"), ckpt / "checkpoint-1")
    shutil.copy(trained_runs / "refiner" / "run.json", ckpt / "run.json")
    shutil.rmtree(ckpt / "checkpoint-1" / "controlnet_ema")
    model.save_pretrained(ckpt / "checkpoint-1" / "controlnet")
    export = tmp_path / "refiner-export-2"
    assert export_main(["--run", str(ckpt), "--output", str(export)]) == 0

    g = torch.Generator().manual_seed(0)
    cross = model.controlnet.config.cross_attention_dim
    inputs = {"noisy": torch.randn(1, 4, 8, 8, generator=g), "t": torch.tensor([10]),
              "context": torch.randn(1, 77, cross, generator=g),
              "text_embeds": torch.randn(1, model.controlnet.config.projection_class_embeddings_input_dim
                                         - 6 * model.controlnet.config.addition_time_embed_dim, generator=g),
              "time_ids": torch.tensor([[64.0, 64, 0, 0, 64, 64]]),
              "maps": {"depth": torch.rand(1, 1, 64, 64, generator=g), "normal": torch.rand(1, 3, 64, 64, generator=g) * 2 - 1,
                       "pose": torch.rand(1, 3, 64, 64, generator=g)}}
    added = {"text_embeds": inputs["text_embeds"], "time_ids": inputs["time_ids"]}
    with torch.no_grad():
        down, mid = model(inputs["noisy"], inputs["t"], inputs["context"], added, inputs["maps"])
    use = """
maps = inputs["maps"]
stacked = torch.cat([maps[name] for name in ("depth", "normal", "pose")], dim=1)
down, mid = controlnet(inputs["noisy"], inputs["t"], encoder_hidden_states=inputs["context"], controlnet_cond=stacked,
                       added_cond_kwargs={"text_embeds": inputs["text_embeds"], "time_ids": inputs["time_ids"]},
                       return_dict=False)
result = {"down": list(down), "mid": mid}
"""
    got = _run_fresh(tmp_path, export, inputs, use)
    assert float(mid.abs().max()) > 0
    torch.testing.assert_close(got["mid"], mid)
    for a, b in zip(got["down"], down):
        torch.testing.assert_close(a, b)


@pytest.mark.slow  # 18 s in the default suite, where the samples-like-humanverse test loads the LSD export with diffusers too
def test_lsd_export_loads_with_diffusers_only(trained_runs, tmp_path):
    from humanverse.train.lsd.sample import load_stage1

    export = tmp_path / "lsd-export"
    assert export_main(["--run", str(trained_runs / "lsd"), "--output", str(export)]) == 0
    assert json.loads((export / "export.json").read_text())["stage"] == "lsd"
    _shared_safely(export, trained_runs / "lsd")
    model = load_stage1(trained_runs / "lsd")
    g = torch.Generator().manual_seed(0)
    inputs = {"latents": {k: torch.randn(1, 4, 16, 16, generator=g) for k in ("rgb", "depth", "normal")},
              "pose": torch.randn(1, 4, 16, 16, generator=g), "t": torch.tensor([500]),
              "context": torch.randn(1, 77, 32, generator=g), "image": torch.rand(1, 3, 32, 32, generator=g) * 2 - 1}
    with torch.no_grad():
        expected = model.unet(inputs["latents"], inputs["pose"], inputs["t"], inputs["context"])
        latent = model.frozen.vae.encode(inputs["image"]).latent_dist.mode()
    use = """
result = dict(unet(inputs["latents"], inputs["pose"], inputs["t"], inputs["context"]))
result["vae"] = vae.encode(inputs["image"]).latent_dist.mode()
result["prediction_type"] = scheduler.config.prediction_type
result["stats"] = latent_stats
"""
    got = _run_fresh(tmp_path, export, inputs, use)
    for name in ("rgb", "depth", "normal"):
        torch.testing.assert_close(got[name], expected[name])
    torch.testing.assert_close(got["vae"], latent)
    assert got["prediction_type"] == "v_prediction" and set(got["stats"]["mean"]) == {"rgb", "depth", "normal"}


def test_lsd_pipeline_export_samples_like_humanverse(trained_runs, tmp_path):
    """The exported DiffusionPipeline, run with diffusers only, gives humanverse's own sampler output for the same
    seed, with a pose image and with "no pose" (zero pose latent)."""
    from humanverse.train.lsd.components import encode_text
    from humanverse.train.lsd.sample import load_stage1, sample_lsd

    export = tmp_path / "lsd-export"
    assert export_main(["--run", str(trained_runs / "lsd"), "--output", str(export)]) == 0
    model = load_stage1(trained_runs / "lsd")
    size = model.cfg.data.resolution
    pose = torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(1))
    settings = {"num_inference_steps": 3, "guidance_scale": 4.0, "guidance_rescale": 0.7}
    expected = {}
    for name, pose_maps in (("pose", pose), ("no_pose", None)):
        out = sample_lsd(model, ["a person waving"], pose_maps, generator=torch.Generator().manual_seed(7), size=size,
                         **settings)
        expected[name] = {"rgb": out.rgb, "depth": out.depth, "normal": out.normal, **out.latents}
    with torch.no_grad():
        inputs = {"embeds": encode_text(model.frozen, ["a person waving"], "cpu"),
                  "negative": encode_text(model.frozen, [""], "cpu"), "pose": pose, "size": size, "settings": settings}
        card_embeds = torch.cat([encode_text(model.frozen, ["a dancer on a stage"], "cpu"), inputs["negative"]])
    use = """
result = {"card_embeds": torch.cat([emb, neg]), "card_rgb": out["rgb"]}
for name, pose_image in (("pose", inputs["pose"]), ("no_pose", None)):
    out = pipe(prompt_embeds=inputs["embeds"], negative_prompt_embeds=inputs["negative"], pose_image=pose_image,
               height=inputs["size"], generator=torch.Generator().manual_seed(7), **inputs["settings"])
    result[name] = {"rgb": out["rgb"], "depth": out["depth"], "normal": out["normal"], **out["latents"]}
result["pipeline_class"] = [type(pipe).__name__, type(pipe).__mro__[1].__name__, type(pipe.unet).__name__]
"""
    got = _run_fresh(tmp_path, export, inputs, use)
    assert got["pipeline_class"] == ["HyperHumanLSDPipeline", "DiffusionPipeline", "ExpertBranchUNet"]
    # the card's own lines make the prompt embeddings without humanverse, as humanverse's encoder does
    torch.testing.assert_close(got["card_embeds"], card_embeds)
    assert got["card_rgb"].shape == (1, 3, size, size)
    for name in ("pose", "no_pose"):
        assert set(got[name]) == set(expected[name])
        for key, value in expected[name].items():
            torch.testing.assert_close(got[name][key], value, atol=1e-5, rtol=1e-4)
    assert not torch.allclose(expected["pose"]["rgb"], expected["no_pose"]["rgb"])  # the pose reaches the output


def test_checkpoint_folders_refuse_the_wrong_class(trained_runs):
    checkpoint = latest_checkpoint(trained_runs / "refiner")
    with pytest.raises(ValueError, match="humanverse StructureControlNet"):
        ControlNetModel.from_pretrained(checkpoint / "controlnet")
    with pytest.raises(ValueError, match="humanverse ExpertBranchUNet"):
        UNet2DConditionModel.from_pretrained(latest_checkpoint(trained_runs / "lsd") / "unet")
    from humanverse.train.refiner.model import StructureControlNet

    assert StructureControlNet.from_pretrained(checkpoint / "controlnet").condition_names == ["depth", "normal", "pose"]
