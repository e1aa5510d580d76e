"""The humanverse preset's GPU stages, each with random weights written in its published format, built from
the preset's own config and timed through the stage objects the pipeline runs (no Ray).

For each stage: build its model files (real size, or tiny for the CPU test), construct the stage from
`resolve("humanverse", ...)` with the weights pointed at them, `setup()` it, and run `process()` on
synthetic samples in micro-batches of the preset's batch size. Two clocks:

- stage seconds: wall time of `process()`, synchronised with the GPU: what one actor achieves, with its
  CPU pre- and post-processing (letterbox, crops, resizes, PNG encoding) serialised with the model;
- model seconds: the span of every forward of the stage's networks, read with CUDA events from forward
  hooks (perf_counter on the CPU): the GPU's share of the work, which is what the pools split a GPU by.

Random weights leave some work undone that trained ones would do (an untrained YOLO boxes nobody, so its
NMS is cheap), and the outputs mean nothing; the networks' compute is the real one.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

STAGE_NEEDS = {
    "detect": ["ultralytics"],
    "clip_scores": ["open_clip"],
    "pose": ["mmpose", "mmengine", "mmcv", "mmpretrain"],
    "depth": ["transformers", "timm"],
    "normal": ["timm"],
    "outpaint": ["diffusers", "open_clip", "transformers"],
}
"""Third-party modules each stage imports beyond torch, numpy, PIL, cv2 and pydantic (every stage's)."""


@dataclass
class StageTiming:
    stage: str
    unit: str
    batch_size: int
    build_s: float = 0.0
    setup_s: float = 0.0
    batches: int = 0
    units: float = 0.0
    stage_s: float = 0.0
    model_s: float = 0.0
    peak_allocated_gib: float | None = None
    peak_reserved_gib: float | None = None
    dtype: str = ""
    note: str = ""
    error: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def stage_s_per_unit(self) -> float | None:
        return self.stage_s / self.units if self.units else None

    @property
    def model_s_per_unit(self) -> float | None:
        return self.model_s / self.units if self.units else None


class ForwardClock:
    """Sums the time spent inside the given methods (a network's `forward`, mmpose's `_forward`): CUDA events
    around each call on a GPU (the GPU time of the span, read once at the end), perf_counter on the CPU.
    Each method is wrapped on its instance for the duration of the `with` block."""

    def __init__(self, methods: list[tuple[object, str]], cuda: bool):
        self.methods, self.cuda = methods, cuda
        self._restore, self._pairs, self._cpu_s = [], [], 0.0

    def _now(self):
        import torch

        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def _wrap(self, fn):
        def timed(*args, **kwargs):
            started = self._now()
            try:
                return fn(*args, **kwargs)
            finally:
                if self.cuda:
                    self._pairs.append((started, self._now()))
                else:
                    self._cpu_s += time.perf_counter() - started

        return timed

    def __enter__(self):
        for owner, attr in self.methods:
            had = attr in vars(owner)
            self._restore.append((owner, attr, had, vars(owner).get(attr)))
            setattr(owner, attr, self._wrap(getattr(owner, attr)))
        return self

    def __exit__(self, *exc):
        for owner, attr, had, old in reversed(self._restore):
            if had:
                setattr(owner, attr, old)
            else:
                delattr(owner, attr)
        self._restore = []

    def seconds(self) -> float:
        if self.cuda:
            import torch

            torch.cuda.synchronize()
            return self._cpu_s + sum(a.elapsed_time(b) for a, b in self._pairs) / 1e3
        return self._cpu_s


def synthetic_images(n: int, width: int, height: int, seed: int = 0) -> list[np.ndarray]:
    """Photo-like RGB (smooth colour fields plus grain, so PNG and JPEG sizes are plausible, not noise's)."""
    import cv2

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        coarse = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.int16)
        grain = rng.integers(-6, 7, (height, width, 3), dtype=np.int16)
        out.append(np.clip(smooth + grain, 0, 255).astype(np.uint8))
    return out


def persons_for(i: int, mean: float) -> int:
    """Persons of image i so that any run of images averages `mean` (1.5 -> 1, 2, 1, 2, ...); at least 1."""
    return max(1, int(np.floor((i + 1) * mean + 1e-9) - np.floor(i * mean + 1e-9)))


def person_boxes(count: int, width: int, height: int) -> list[dict]:
    """Side-by-side standing persons, the first one cut by the bottom border (what outpaint `auto` grows)."""
    boxes = []
    w = width / (count + 1)
    for k in range(count):
        x0 = w * (k + 0.5)
        box = [x0, height * 0.15, x0 + w * 0.9, float(height) if k == 0 else height * 0.95]
        area = (box[2] - box[0]) * (box[3] - box[1]) / (width * height)
        boxes.append({"box": [round(v, 2) for v in box], "score": 0.9, "area_frac": round(area, 5)})
    return boxes


def make_samples(images: list[np.ndarray], mean_persons: float, tag: str) -> list:
    from humanverse.core.sample import Sample

    samples = []
    for i, image in enumerate(images):
        h, w = image.shape[:2]
        s = Sample(key=f"{tag}{i:06d}", task_id="gpu-run", source={}, caption="a person standing outdoors")
        s.image, s.width, s.height = image, w, h
        s.persons = person_boxes(persons_for(i, mean_persons), w, h)
        samples.append(s)
    return samples


@dataclass(frozen=True)
class Sizes:
    """Real sizes (the preset's) or tiny ones (the CPU test): architecture and file name per model."""

    tiny: bool

    @property
    def yolo_arch(self) -> str:
        return "yolo11n.yaml" if self.tiny else "yolo11x.yaml"

    @property
    def pose_arch(self) -> str:
        return "tiny" if self.tiny else "vitpose-h"

    @property
    def dpt_arch(self) -> str:
        return "tiny" if self.tiny else "dpt-hybrid"

    @property
    def clip_arch(self) -> str:
        from humanverse.models.clip.clip_embedder import TINY_ARCH
        from humanverse.models.clip.clip_published import CLIP_ARCH

        return TINY_ARCH if self.tiny else CLIP_ARCH


def build(stage: str, root: Path, sizes: Sizes) -> list[str]:
    """Write the stage's random-weight files under root (skipped when already there) and return the config
    overrides that point the preset at them."""
    root = Path(root)
    marker = root / f".done-{stage}-{'tiny' if sizes.tiny else 'real'}"
    overrides = _overrides(stage, sizes)
    if marker.exists():
        return overrides
    import torch

    torch.manual_seed(0)
    if stage == "detect":
        from humanverse.models.detect.yolo_person import build_demo_weights

        build_demo_weights(root / "yolo" / f"{sizes.yolo_arch[:-5]}.pt", sizes.yolo_arch)
    elif stage == "pose":
        from humanverse.models.pose.pose_mmpose import build_demo_weights

        build_demo_weights(root, arch=sizes.pose_arch)
    elif stage == "depth":
        from humanverse.models.dense import dpt_midas, omnidata

        dpt_midas.build_demo_weights(root, arch=sizes.dpt_arch)
        omnidata.build_demo_weights(root, arch=sizes.dpt_arch)
    elif stage == "normal":
        if not (root / f".done-depth-{'tiny' if sizes.tiny else 'real'}").exists():
            from humanverse.models.dense import omnidata

            omnidata.build_demo_weights(root, arch=sizes.dpt_arch)
    elif stage == "clip_scores":
        from humanverse.models.clip.demo_weights import build_demo_weights

        build_demo_weights(root, "clip", sizes.clip_arch, "aesthetic", "nsfw")
    elif stage == "outpaint":
        _build_sd(root / "sd2-inpainting", sizes.tiny)
    else:
        raise ValueError(f"unknown stage {stage!r}")
    marker.write_text("random weights, published format\n")
    return overrides


def _build_sd(target: Path, tiny: bool) -> None:
    if tiny:
        from humanverse.models.inpaint.sd_inpaint import build_demo_weights

        build_demo_weights(target)
        return
    import torch
    from bench_outpaint import build_full_size_pipeline

    pipe = build_full_size_pipeline()
    pipe.to(torch.float16).save_pretrained(str(target))  # SdInpainter.load reads fp16 on a GPU anyway


def _overrides(stage: str, sizes: Sizes) -> list[str]:
    dpt_dir = "omnidata-tiny" if sizes.tiny else "omnidata-dpt-hybrid"
    return {
        "detect": [f"detect.weights=yolo/{sizes.yolo_arch[:-5]}.pt"],
        "pose": [f"pose.arch={sizes.pose_arch}",
                 "pose.weights=" + ("vitpose/vitpose-tiny-wholebody.pth" if sizes.tiny
                                    else "vitpose/vitpose-h-wholebody-random.pth")],
        "depth": ["depth.midas_weights=" + ("dpt-hybrid-midas-tiny" if sizes.tiny else "dpt-hybrid-midas-dpt-hybrid-random"),
                  f"depth.omnidata_weights={dpt_dir}/omnidata_dpt_depth_v2.ckpt", f"depth.omnidata_arch={sizes.dpt_arch}"],
        "normal": [f"normal.weights={dpt_dir}/omnidata_dpt_normal_v2.ckpt", f"normal.arch={sizes.dpt_arch}"],
        "clip_scores": [f"clip.arch={sizes.clip_arch}", "clip.weights=clip", "aesthetic.weights=aesthetic",
                        "nsfw.weights=nsfw", "aesthetic.source=model", "nsfw.source=model",
                        "aesthetic.min_score=1.0", "nsfw.max_score=1.0"],  # random heads: reject nobody
        "outpaint": ["outpaint.model=sd2-inpainting"],
    }[stage]


def make_stage(stage: str, cfg):
    """The pipeline's stage object for `stage`, from the resolved config."""
    from humanverse.stages.clip_scores import CLIPScoreStage
    from humanverse.stages.depth import DepthStage
    from humanverse.stages.detect import PersonDetectStage
    from humanverse.stages.normal import NormalStage
    from humanverse.stages.outpaint import OutpaintStage
    from humanverse.stages.pose import PoseStage

    section, cls = {
        "detect": (cfg.detect, PersonDetectStage), "pose": (cfg.pose, PoseStage), "depth": (cfg.depth, DepthStage),
        "normal": (cfg.normal, NormalStage), "clip_scores": (cfg.clip_scores(), CLIPScoreStage),
        "outpaint": (cfg.outpaint, OutpaintStage),
    }[stage]
    return cls(section, cfg.models_dir)


def spans(stage: str, obj) -> tuple[list[tuple[object, str]], str]:
    """The methods whose calls are the stage's GPU work (for ForwardClock), and the dtype they run in. Read
    after the warm-up batch: ultralytics builds its predictor on the first call."""
    from humanverse.core.device import autocast_dtype

    amp = str(autocast_dtype(obj.device)).replace("torch.", "")
    if stage == "detect":
        yolo = obj.detector.model  # predict() runs the network in fp32 unless ultralytics' half=True
        net = yolo.predictor.model if yolo.predictor is not None else yolo.model
        half = bool(getattr(yolo.predictor.args, "half", False)) if yolo.predictor is not None else False
        return [(net, "forward")], "float16" if half and obj.device == "cuda" else "float32"
    if stage == "pose":
        return [(obj._run.heatmaps.model, "_forward")], amp  # mmpose TopdownPoseEstimator: backbone + head
    if stage == "depth":
        return [(p.model, "forward") for p in obj._predictors.values()], amp
    if stage == "normal":
        return [(obj._predict.model, "forward")], amp
    if stage == "clip_scores":
        heads = [m for m in (obj.aesthetic_model, obj.nsfw_model) if m is not None]
        return [(m, "forward") for m in [obj.embedder.visual, *heads]], str(obj.embedder.dtype).replace("torch.", "")
    if stage == "outpaint":
        pipe = obj._inpainter.pipe
        mods = [pipe.unet, pipe.text_encoder, pipe.vae.encoder, pipe.vae.decoder]
        return [(m, "forward") for m in mods], str(pipe.unet.dtype).replace("torch.", "")
    raise ValueError(stage)


def units_of(stage: str, samples: list) -> float:
    """How many of the stage's units a batch holds: persons for pose, images otherwise."""
    if stage == "pose":
        return float(sum(len(s.persons) for s in samples))
    return float(len(samples))


@contextmanager
def _peak_memory(cuda: bool, timing: StageTiming):
    import torch

    if cuda:
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    try:
        yield
    finally:
        if cuda:
            timing.peak_allocated_gib = torch.cuda.max_memory_allocated() / 2**30
            timing.peak_reserved_gib = torch.cuda.max_memory_reserved() / 2**30


def time_stage(stage: str, cfg, make_batch: Callable[[int], list], min_seconds: float, max_batches: int,
               cuda: bool, build_s: float = 0.0) -> StageTiming:
    """setup(), one warm-up micro-batch, then micro-batches until min_seconds have passed (at least one,
    at most max_batches)."""
    import torch

    obj = make_stage(stage, cfg)
    batch_size = obj.resources.batch_size
    timing = StageTiming(stage=stage, unit=_unit(stage), batch_size=batch_size, build_s=build_s)
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    with _peak_memory(cuda, timing):
        t0 = time.perf_counter()
        obj.ensure_setup()
        sync()
        timing.setup_s = time.perf_counter() - t0
        obj.process(make_batch(batch_size))  # warm-up: allocator, cuDNN autotuning, lazy inits
        sync()
        module_spans, timing.dtype = spans(stage, obj)
        with ForwardClock(module_spans, cuda) as clock:
            started = time.perf_counter()
            while timing.batches < max_batches and (timing.batches == 0 or time.perf_counter() - started < min_seconds):
                batch = make_batch(batch_size)
                obj.process(batch)
                sync()
                timing.batches += 1
                timing.units += units_of(stage, batch)
                _check(stage, batch)
            timing.stage_s = time.perf_counter() - started
            timing.model_s = clock.seconds()
    del obj
    return timing


def _unit(stage: str) -> str:
    from gpu_plan import UNIT

    return UNIT[stage]


def _check(stage: str, batch: list) -> None:
    """The stage did its work on every sample (a silently skipped batch would time nothing)."""
    from humanverse.core.sample import OK

    dead = [s for s in batch if s.status != OK]
    if dead:
        raise RuntimeError(f"{stage}: {len(dead)} of {len(batch)} samples ended {dead[0].status}:{dead[0].reason} "
                           f"({(dead[0].info.get('errors') or [{}])[0].get('message', '')})")
    if stage == "outpaint" and any(s.canvas is None for s in batch):
        raise RuntimeError("outpaint: a sample was not outpainted; the timing would not be the model's")
