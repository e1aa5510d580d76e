"""model_provenance reads every stage the sapiens preset turns on (Sapiens2 pose, pointmap depth, normals,
parts, matting mask) and calls a tiny random-weight Sapiens2 build untrained wherever it lies."""

from humanverse import config as cfgmod
from humanverse.model_provenance import provenance_line, stage_models


def test_sapiens_preset_is_read_stage_by_stage():
    cfg = cfgmod.resolve("sapiens", None, ["mask={backend: sapiens}"])
    by_stage = {m.stage: m for m in stage_models(cfg)}
    assert by_stage["pose"].model == "sapiens2-0.4b (sapiens)" and by_stage["pose"].trained
    assert by_stage["depth (sapiens)"].model == cfg.depth.sapiens_weights
    assert by_stage["normal"].model == cfg.normal.sapiens_weights
    assert by_stage["parts"].model == cfg.parts.weights
    assert by_stage["mask"].model == "hf:facebook/sapiens2-matting-1b"
    assert "tiny random-weight" not in provenance_line(cfg)


def test_tiny_sapiens_builds_are_reported_as_random_weights():
    tiny = ["pose.sapiens_arch=sapiens2-tiny", "depth.sapiens_arch=sapiens2-tiny",
            "normal.sapiens_arch=sapiens2-tiny", "parts.arch=sapiens2-tiny"]
    cfg = cfgmod.resolve("sapiens", None, tiny)
    untrained = {m.stage for m in stage_models(cfg) if not m.trained}
    assert {"pose", "depth (sapiens)", "normal", "parts"} <= untrained
    assert "depth (midas)" not in untrained


def test_demo_banner_names_the_blazepose_detector_and_how_it_measured():
    demo = {m.stage: m for m in stage_models(cfgmod.resolve("demo", None, []))}
    assert demo["detect"].trained and "BlazePose" in demo["detect"].model and "ACCURACY.md" in demo["detect"].model
    hog = {m.stage: m for m in stage_models(cfgmod.resolve("demo", None, ["detect.backend=hog"]))}
    assert hog["detect"].model == "OpenCV HOG people detector"
