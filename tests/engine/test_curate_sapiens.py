"""curate() with tiny random Sapiens2 models (HF layout) in every Sapiens2 role, mixed into the demo preset by
config: pose.backend, a sapiens entry in depth.models, normal.backend, parts, and mask.backend (matting).
On the local engine: the stages are what is tested here; test_curate_e2e.py covers the Ray path."""

import json

import numpy as np
import pytest
import webdataset as wds

from humanverse import config as cfgmod
from humanverse.stages.parts import decode_classes
from humanverse.models.sapiens.loader import DEMO_INPUT_SIZE, build_weights
from humanverse.engine.curate import curate
from humanverse.shards.encoding import decode_depth16, decode_mask8, decode_normal


@pytest.fixture(scope="module")
def sapiens_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("sapiens-models")
    for i, task in enumerate(("pose", "pointmap", "normal", "seg", "matting")):
        build_weights(root / task, task, "sapiens2-tiny", DEMO_INPUT_SIZE, seed=i)
    return root


def sapiens_overrides(root, *extra):
    h, w = DEMO_INPUT_SIZE
    return [
        "input.rows_per_task=4",
        "pose.backend=sapiens", f"pose.sapiens_weights={root / 'pose'}", "pose.sapiens_arch=sapiens2-tiny",
        f"pose.sapiens_input_size=[{h}, {w}]",
        "depth.models=[sapiens, midas]", "depth.primary=sapiens", f"depth.sapiens_weights={root / 'pointmap'}",
        "depth.sapiens_arch=sapiens2-tiny",
        "normal.backend=sapiens", f"normal.sapiens_weights={root / 'normal'}", "normal.sapiens_arch=sapiens2-tiny",
        f"parts={{weights: '{root / 'seg'}', arch: sapiens2-tiny, resources: {{num_cpus: 0.5, batch_size: 4}}}}",
        f"mask={{backend: sapiens, sapiens_weights: '{root / 'matting'}', resources: {{num_cpus: 0.5, batch_size: 4}}}}",
        *extra,
    ]


@pytest.mark.parametrize("outpaint", ["never", pytest.param("always", marks=pytest.mark.slow)])
def test_curate_with_sapiens_annotators(laion_input, tmp_path, sapiens_dir, outpaint):
    cfg = cfgmod.resolve("demo", None, sapiens_overrides(sapiens_dir, f"outpaint.mode={outpaint}"))
    out = tmp_path / "out"
    result = curate(cfg, [laion_input], str(out), allow_private_urls=True, engine="local")
    assert result.ok and result.summary["counts"]["ok"] == 2, result.summary
    seen = 0
    for tar in sorted((out / "shards").glob("*.tar")):
        for s in wds.WebDataset(str(tar), shardshuffle=False, empty_check=False):
            meta = json.loads(s["json"])
            w, h = meta["width"], meta["height"]
            for person in meta["persons"]:
                assert np.asarray(person["keypoints"]).shape == (133, 3)
                assert np.asarray(person["keypoints_goliath"]).shape == (308, 3)
                if outpaint == "always":  # both sets come back in original pixels, the same transform
                    k133, k308 = np.asarray(person["keypoints"]), np.asarray(person["keypoints_goliath"])
                    np.testing.assert_allclose(k133[0, :2], k308[0, :2], atol=0.02)
            assert decode_depth16(s["depth.png"]).shape == (h, w)
            assert decode_depth16(s["depth_midas.png"]).shape == (h, w)
            assert meta["depth"]["model"].startswith("sapiens2-tiny-pointmap-z")
            assert meta["depth"]["z_min_m"] <= meta["depth"]["z_max_m"]
            assert decode_normal(s["normal.png"]).shape == (h, w, 3)
            assert meta["normal"]["model"].startswith("sapiens2-tiny-normal")
            assert decode_classes(s["parts.png"]).shape == (h, w)
            assert meta["parts"]["hand_classes"] == {"left_hand": 6, "right_hand": 15}
            assert decode_mask8(s["mask.png"]).shape == (h, w) and meta["mask"]["backend"] == "sapiens"
            assert {"pose", "depth", "depth_midas", "normal", "parts", "mask"} <= set(meta["models"])
            assert meta.get("outpaint", {}).get("applied", False) == (outpaint == "always")
            seen += 1
    assert seen == 2
    run = json.loads((out / "run.json").read_text())
    assert "parts" in json.dumps(run["models"])


def test_sapiens_preset_resolves_and_mixes_with_the_papers():
    cfg = cfgmod.resolve("sapiens", None, [])
    assert (cfg.pose.backend, cfg.normal.backend, cfg.depth.primary) == ("sapiens", "sapiens", "sapiens")
    assert cfg.parts is not None and cfg.pose.sapiens_input_size == (1024, 768)
    vitpose_plus_sapiens_normals = cfgmod.resolve("humanverse", None, ["normal.backend=sapiens"])
    assert (vitpose_plus_sapiens_normals.pose.backend, vitpose_plus_sapiens_normals.normal.backend) == ("mmpose", "sapiens")
    back = cfgmod.resolve("sapiens", None, ["pose.backend=mmpose", "parts=null"])
    assert back.pose.weights == "vitpose/vitpose-h-wholebody.safetensors" and back.parts is None
