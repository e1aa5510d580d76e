"""`humanverse export` covers every method: a hand run (ExpertBranchUNet, rgb + mask branches) and a hand-body
run (StructureControlNet on SD-2-inpainting) export, load in a fresh process with humanverse blocked through
their cards' own lines, and give the trained models' outputs. Before, both were "unknown stage"."""

from __future__ import annotations

import json

import pytest
import torch

from humanverse.train.export.cli import main as export_main
from tests.train.export.test_export import _run_fresh, _shared_safely


def test_every_method_exports(trained_hand_runs, tmp_path):
    """The fast check (the fresh-process loads below are slow): both hand methods export, shareably."""
    for method, files in (("hand", {"unet/expert_branch_unet.py", "pipeline_hyperhuman_lsd.py"}),
                          ("hand-body", {"condition_embedding/condition_embedding.py"})):
        export = tmp_path / method
        assert export_main(["--run", str(trained_hand_runs / method), "--output", str(export)]) == 0
        assert set(json.loads((export / "export.json").read_text())["files"]) == files
        _shared_safely(export, trained_hand_runs / method)


@pytest.mark.slow
def test_hand_export_loads_and_samples_with_diffusers_only(trained_hand_runs, tmp_path):
    from humanverse.train.hand.sample import load_hand_model

    export = tmp_path / "hand-export"
    assert export_main(["--run", str(trained_hand_runs / "hand"), "--output", str(export)]) == 0
    assert json.loads((export / "export.json").read_text())["stage"] == "hand"
    model = load_hand_model(trained_hand_runs / "hand")
    g = torch.Generator().manual_seed(0)
    side = model.cfg.data.resolution // 8
    width = model.unet.config.unet_config["cross_attention_dim"]
    inputs = {"latents": {k: torch.randn(1, 4, side, side, generator=g) for k in ("rgb", "mask")},
              "pose": torch.randn(1, 4, side, side, generator=g), "t": torch.tensor([500]),
              "context": torch.randn(1, 77, width, generator=g)}
    with torch.no_grad():
        expected = model.unet(inputs["latents"], inputs["pose"], inputs["t"], inputs["context"])
    use = """
result = dict(unet(inputs["latents"], inputs["pose"], inputs["t"], inputs["context"]))
result["outputs"] = sorted(k for k in out if k != "latents")
result["mask_shape"] = list(out["mask"].shape)
"""
    got = _run_fresh(tmp_path, export, inputs, use)
    for name in ("rgb", "mask"):
        torch.testing.assert_close(got[name], expected[name])
    side = model.cfg.data.resolution
    assert got["outputs"] == ["mask", "rgb"] and got["mask_shape"] == [1, 1, side, side]


@pytest.mark.slow
def test_hand_body_export_loads_with_diffusers_only(trained_hand_runs, tmp_path):
    from humanverse.train.common.checkpoints import latest_checkpoint
    from humanverse.train.refiner.model import StructureControlNet

    export = tmp_path / "hand-body-export"
    assert export_main(["--run", str(trained_hand_runs / "hand-body"), "--output", str(export)]) == 0
    model = StructureControlNet.from_pretrained(latest_checkpoint(trained_hand_runs / "hand-body") / "controlnet_ema")
    g = torch.Generator().manual_seed(0)
    inputs = {"noisy": torch.randn(1, 9, 8, 8, generator=g), "t": torch.tensor([10]),
              "context": torch.randn(1, 77, model.controlnet.config.cross_attention_dim, generator=g),
              "maps": {"pose": torch.rand(1, 3, 64, 64, generator=g)}}
    with torch.no_grad():
        down, mid = model(inputs["noisy"], inputs["t"], inputs["context"], {}, inputs["maps"])
    use = """
down, mid = controlnet(inputs["noisy"], inputs["t"], encoder_hidden_states=inputs["context"],
                       controlnet_cond=inputs["maps"]["pose"], return_dict=False)
result = {"down": list(down), "mid": mid}
"""
    got = _run_fresh(tmp_path, export, inputs, use)
    torch.testing.assert_close(got["mid"], mid)
    for a, b in zip(got["down"], down):
        torch.testing.assert_close(a, b)
