"""The flow on one screen: every stage in pipeline order, the worker group it runs in, and when it is on.

Read the table top to bottom: that is the order a sample meets the stages (cheapest rejections first,
DESIGN §3). Consecutive rows with the same group share one worker (one Ray actor pool; the local executor
runs them in one loop); a group's workers ask for the largest share any member declares (core/group.py).

Which config section turns what on:
- metadata, fetch, decode, resolution, detect, person, phash (for `humanverse dedup`): always on (their thresholds come from their sections);
- clip_scores: when aesthetic, nsfw or clip.keep_embeddings is on; `clip.place` puts it before or after
  the person rule (after, by default: only people photos pay for CLIP);
- outpaint and outpaint_restore: when outpaint.mode is not `never`; restore rides in the last annotator's
  group (cheap CPU work, no extra hop);
- hands: when its section is not null (the default); it rides in the last annotator's group, after restore,
  so it reads keypoints and masks in the original frame (with no annotator on, it rides in the
  group before the writer: no pool of its own);
- pose, depth, normal, parts, mask: when their section is not null (parts is on in the sapiens preset only; mask is null unless a
  preset or `--set mask={}` turns it on); `layout.annotators: fused` puts all annotators in
  one group (`annotate`, sized by layout.fused_resources), per_model gives each its own.

The metadata aesthetic cut: when the aesthetic score may come from metadata (aesthetic.source is
`metadata` or `auto`) and metadata.min_aesthetic is unset, aesthetic.min_score is applied by the metadata
filter, before anything is downloaded (rows without the column pass on to the CLIP stage).
"""

from __future__ import annotations

from humanverse.config import CurateConfig
from humanverse.core.group import StageGroup, pool_resources
from humanverse.core.model_check import MissingModelFiles
from humanverse.core.stage import Resources, Stage
from humanverse.imaging.pixel_digest import check_definition
from humanverse.stages.clip_scores import CLIPScoreStage
from humanverse.stages.decode import DecodeStage
from humanverse.stages.depth import DepthStage
from humanverse.stages.detect import PersonDetectStage
from humanverse.stages.fetch import FetchStage
from humanverse.stages.hands import HandsStage
from humanverse.stages.mask import MaskStage
from humanverse.stages.metadata import MetadataFilter
from humanverse.stages.normal import NormalStage
from humanverse.stages.outpaint import OutpaintStage
from humanverse.stages.outpaint_restore import OutpaintRestoreStage
from humanverse.stages.parts import PartsStage
from humanverse.stages.perceptual_hash import PerceptualHashStage
from humanverse.stages.person_rule import PersonRule
from humanverse.stages.pose import PoseStage
from humanverse.stages.resolution import ResolutionFilter



def plan(cfg: CurateConfig, allow_private_urls: bool = False) -> list[tuple[str, type[Stage], tuple, bool]]:
    """(group, stage class, constructor arguments, on) for every stage, in pipeline order."""
    models = cfg.models_dir
    download = cfg.fetch.download
    if allow_private_urls:
        download = download.model_copy(update={"allow_private_urls": True})
    fetch = cfg.fetch.resources
    aes = cfg.aesthetic
    metadata = cfg.metadata
    if metadata.min_aesthetic is None and aes.enabled and aes.source != "model":  # the metadata aesthetic cut
        metadata = metadata.model_copy(update={"min_aesthetic": aes.min_score})
    clip_on = aes.enabled or cfg.nsfw.enabled or cfg.clip.keep_embeddings
    outpaint_on = cfg.outpaint.mode != "never"
    fused = cfg.layout.annotators == "fused"
    annotators = {"outpaint": outpaint_on, "pose": cfg.pose is not None,
                  "depth": cfg.depth is not None, "normal": cfg.normal is not None,
                  "parts": cfg.parts is not None, "mask": cfg.mask is not None}
    last_annotator = [name for name, on in annotators.items() if on][-1:] or ["outpaint"]

    def annotator(name: str) -> str:
        return "annotate" if fused else name

    # hands rides in the last group a sample meets before the writer: never a pool of its own
    before_writer = "clip_scores" if clip_on and cfg.clip.place == "after_person" else "detect"
    hands_group = annotator(last_annotator[0]) if outpaint_on or any(annotators.values()) else before_writer

    return [
        # group                          stage                  arguments                          on
        ("fetch",                        MetadataFilter,        (metadata,),                       True),
        ("fetch",                        FetchStage,            (download, fetch),                 True),
        ("fetch",                        DecodeStage,           (cfg.fetch.decode, fetch),         True),
        ("fetch",                        ResolutionFilter,      (cfg.resolution,),                 True),
        ("clip_scores",                  CLIPScoreStage,        (cfg.clip_scores(), models),       clip_on and cfg.clip.place == "before_person"),
        ("detect",                       PersonDetectStage,     (cfg.detect, models),              True),
        ("detect",                       PersonRule,            (cfg.person,),                     True),
        ("detect",                       PerceptualHashStage,   (cfg.detect.resources,),           True),
        ("clip_scores",                  CLIPScoreStage,        (cfg.clip_scores(), models),       clip_on and cfg.clip.place == "after_person"),
        (annotator("outpaint"),          OutpaintStage,         (cfg.outpaint, models),            outpaint_on),
        (annotator("pose"),              PoseStage,             (cfg.pose, models),                annotators["pose"]),
        (annotator("depth"),             DepthStage,            (cfg.depth, models),               annotators["depth"]),
        (annotator("normal"),            NormalStage,           (cfg.normal, models),              annotators["normal"]),
        (annotator("parts"),             PartsStage,            (cfg.parts, models),               annotators["parts"]),
        (annotator("mask"),              MaskStage,             (cfg.mask, models),                annotators["mask"]),
        (annotator(last_annotator[0]),   OutpaintRestoreStage,  (cfg.outpaint, models),            outpaint_on),
        (hands_group,                    HandsStage,            (cfg.hands,),                      cfg.hands is not None),
    ]


def group_resources(cfg: CurateConfig) -> dict[str, Resources]:
    """Groups whose workers the config sizes as a whole; every other group is sized by its stages."""
    return {"fetch": cfg.fetch.resources, "annotate": cfg.layout.fused_resources}


def build_stage_groups(cfg: CurateConfig, allow_private_urls: bool = False) -> list[StageGroup]:
    """The stages that are on, constructed here on the driver and grouped. Every declared weight file is
    checked before any work starts, and every missing one is named in one error (fixed in one go)."""
    missing: list[str] = []
    groups: list[StageGroup] = []
    for group, stage_cls, args, on in plan(cfg, allow_private_urls):
        if not on:
            continue
        stage = stage_cls(*args)
        try:
            stage.check_models()
        except MissingModelFiles as exc:
            missing.append(str(exc))
        if groups and groups[-1].name == group:
            groups[-1].stages.append(stage)
        else:
            groups.append(StageGroup(group, [stage], stage.resources))
    if missing:
        raise MissingModelFiles("\n".join(missing))
    sized = group_resources(cfg)
    for g in groups:
        g.resources = pool_resources(g.stages, sized.get(g.name))
        if g.name == "fetch":
            g.tasks_per_worker = cfg.fetch.tasks_per_actor
    return groups


def use_pixel_digest(groups: list[StageGroup], definition: str) -> None:
    """Make the stages that take the pixel digest (decode, and phash for kept original JPEGs) record the run's
    definition (imaging/pixel_digest.py): a resumed run keeps the one its run.json records, so that one run's
    shards never mix definitions."""
    for group in groups:
        for stage in group.stages:
            if isinstance(stage, (DecodeStage, PerceptualHashStage)):
                stage.digest_definition = check_definition(definition)
