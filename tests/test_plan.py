"""plan.py: the order, the grouping and the switches, as a newcomer reads them in the table."""

from humanverse.config import resolve
from humanverse.model_provenance import ensure_demo_models
from humanverse.plan import build_stage_groups, plan


def layout(*overrides):
    cfg = resolve("demo", None, list(overrides))
    ensure_demo_models(cfg.models_dir)
    return [(g.name, [s.name for s in g.stages]) for g in build_stage_groups(cfg)], cfg


def test_demo_order_and_groups():
    groups, _ = layout()
    assert groups == [
        ("fetch", ["metadata", "fetch", "decode", "resolution"]),
        ("detect", ["detect", "person", "phash"]),
        ("clip_scores", ["clip_scores"]),
        ("annotate", ["outpaint", "pose", "depth", "normal", "mask", "outpaint_restore", "hands"]),
    ]


def test_switches_place_clip_and_restore():
    groups, _ = layout("clip.place=before_person", "layout.annotators=per_model", "normal=null", "mask=null")
    assert [name for name, _ in groups] == ["fetch", "clip_scores", "detect", "outpaint", "pose", "depth"]
    assert groups[-1] == ("depth", ["depth", "outpaint_restore", "hands"])  # restore and hands ride with the last annotator
    groups, _ = layout("layout.annotators=per_model", "depth=null")
    assert groups[-2:] == [("normal", ["normal"]), ("mask", ["mask", "outpaint_restore", "hands"])]
    groups, _ = layout("outpaint.mode=never", "pose=null", "depth=null", "normal=null", "mask=null",
                       "aesthetic.enabled=false", "nsfw.enabled=false")
    assert groups[1:] == [("detect", ["detect", "person", "phash", "hands"])]  # no annotator: no pool of its own
    groups, _ = layout("outpaint.mode=never", "pose=null", "depth=null", "normal=null", "mask=null")
    assert groups[-1] == ("clip_scores", ["clip_scores", "hands"])
    groups, _ = layout("outpaint.mode=never", "pose=null", "depth=null", "normal=null", "mask=null", "hands=null",
                       "aesthetic.enabled=false", "nsfw.enabled=false")
    assert [name for name, _ in groups] == ["fetch", "detect"]


def test_metadata_aesthetic_cut_is_applied_by_the_metadata_filter():
    cfg = resolve("demo", None, ["aesthetic.source=auto", "aesthetic.min_score=5"])
    metadata = plan(cfg)[0]
    assert metadata[1].name == "metadata" and metadata[2][0].min_aesthetic == 5
    cfg = resolve("demo", None, ["aesthetic.source=model", "aesthetic.min_score=5"])
    assert plan(cfg)[0][2][0].min_aesthetic is None


def test_group_workers_cover_every_members_declared_resources():
    cfg = resolve("demo", None, ["pose.resources.num_gpus=0.5", "pose.resources.num_cpus=1.5"])
    ensure_demo_models(cfg.models_dir)
    annotate = build_stage_groups(cfg)[-1]
    assert annotate.name == "annotate"
    assert (annotate.resources.num_cpus, annotate.resources.num_gpus) == (1.5, 0.5)
    assert annotate.resources.actors == cfg.layout.fused_resources.actors
    pose = next(s for s in annotate.stages if s.name == "pose")
    assert pose.resources.num_gpus == 0.5  # the stage itself still runs by its own declaration


def test_fetch_tasks_per_actor_reaches_the_fetch_group_only():
    """fetch.tasks_per_actor runs several tasks at once in a fetch worker; model groups stay one at a time."""
    groups = build_stage_groups(resolve("humanverse", None, ["fetch.tasks_per_actor=4", "detect.backend=hog",
                                                             "pose=null", "depth=null", "normal=null",
                                                             "outpaint.mode=never", "aesthetic.enabled=false",
                                                             "nsfw.enabled=false"]))
    assert {g.name: g.tasks_per_worker for g in groups} == {"fetch": 4, "detect": 1}

