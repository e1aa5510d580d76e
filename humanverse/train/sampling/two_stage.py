"""Two-stage sampling: stage 1 (caption + pose -> RGB, depth, normal at 512²), then the refiner (-> 1024²).

Every refiner condition has a source, recorded in sample.json:
  user     supplied as a file (keypoints JSON, depth or normal PNG), e.g. a curated sample's ground truth;
  stage1   predicted by stage 1 and resized to the refiner's resolution;
  dropped  asked to be left out (zeros, as in training's condition dropout);
  none     no keypoints were given: stage 1 gets a zero pose *latent* and the refiner a zero pose map, each
           exactly what its training's condition dropout showed it as "no pose".
Stage-1 maps reach the refiner in the form the refiner trained on: depth min-max normalised per image (as in
the shards), normals unit length, the pose drawn at each stage's own resolution with that stage's keypoint
score threshold (data.keypoint_score_threshold of its run).
Stage 1 runs only when the refiner needs a map the user did not supply, so the refiner also works from
ground-truth conditions alone, without a stage-1 checkpoint.

Output folder:
  image.png                          the refined image (refiner resolution)
  stage1/rgb.png, depth.png, normal.png   stage 1's outputs, when it ran (depth 16-bit, normals in the shard
                                     encoding, so they can be fed back as --depth / --normal)
  conditions/{name}.png              exactly what the refiner was given
  sample.json                        prompt, settings, checkpoints, condition sources, seconds; written last
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from humanverse.shards import atomic
from humanverse.shards.encoding import encode_depth16, encode_normal
from humanverse.train.common.checkpoints import read_run_record, trained_checkpoint
from humanverse.train.sampling.condition_inputs import (
    load_depth,
    load_keypoints,
    load_normal,
    minmax_per_image,
    resize_map,
)

log = logging.getLogger(__name__)

STAGE1_MAPS = ("depth", "normal")


@dataclass
class TwoStageRequest:
    prompt: str
    output: str
    refiner: str
    lsd: str | None = None
    keypoints: str | None = None
    depth: str | None = None
    normal: str | None = None
    drop: list[str] = field(default_factory=list)
    negative_prompt: str = ""
    seed: int = 0
    steps: int = 50
    guidance_scale: float = 7.5
    stage1_steps: int = 50
    stage1_guidance_scale: float = 7.5
    stage1_guidance_rescale: float = 0.7
    """Guidance rescale of stage 1 (zero-SNR v-prediction; Lin et al. 2023 recommend 0.7); 0 turns it off."""
    conditioning_scale: float = 1.0
    init_strength: float = 1.0
    """< 1 starts the refiner from stage 1's RGB, upscaled and noised (SDEdit); 1 starts from noise."""
    use_ema: bool = True
    device: str = "cpu"
    dtype: str = "float32"


def _save_rgb(image: torch.Tensor, path: Path) -> None:
    array = (image.clamp(0, 1).permute(1, 2, 0).cpu().numpy() * 255).round().astype(np.uint8)
    Image.fromarray(array).save(path)


def _save_map(name: str, value: torch.Tensor, path: Path) -> None:
    """A condition or stage-1 map in the shard encodings (pose as an RGB image)."""
    value = value.float().cpu()
    if name == "depth":
        path.write_bytes(encode_depth16(value[0].numpy())[0])
    elif name == "normal":
        path.write_bytes(encode_normal(value.permute(1, 2, 0).numpy()))
    else:
        _save_rgb(value, path)


def _atomic_json(path: Path, record: dict) -> None:
    atomic.write_bytes(str(path), json.dumps(record, indent=2, default=str).encode())


def run_two_stage(request: TwoStageRequest) -> dict:
    """Run the request, write the output folder, return the sample.json record."""
    from humanverse.train.lsd.sample import load_stage1, sample_lsd
    from humanverse.train.refiner.sample import load_refiner, sample_refiner

    started = time.perf_counter()
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}[request.dtype]
    out = Path(request.output)
    (out / "conditions").mkdir(parents=True, exist_ok=True)
    refiner = load_refiner(request.refiner, request.use_ema, request.device, dtype)
    size, names = refiner.resolution, refiner.condition_names
    unknown = set(request.drop) - set(names)
    if unknown:
        raise ValueError(f"cannot drop {sorted(unknown)}: the refiner's conditions are {names}")

    keypoints = load_keypoints(request.keypoints) if request.keypoints else None
    conditions: dict[str, torch.Tensor] = {}
    sources: dict[str, str] = {}
    user_maps = {"depth": (request.depth, load_depth), "normal": (request.normal, load_normal)}
    for name in names:
        if name in request.drop:
            sources[name] = "dropped"
        elif name == "pose":
            sources[name] = "user" if keypoints else "none"
            if keypoints:
                conditions[name] = keypoints.pose_map(size, refiner.cfg.data.keypoint_score_threshold)
        elif user_maps.get(name, (None,))[0]:
            path, loader = user_maps[name]
            conditions[name] = loader(path, size)
            sources[name] = "user"
        else:
            sources[name] = "stage1" if name in STAGE1_MAPS else "none"

    stage1_record, init_image = None, None
    if "stage1" in sources.values() or request.init_strength < 1:
        if not request.lsd:
            missing = [n for n, s in sources.items() if s == "stage1"]
            raise ValueError(f"the refiner needs {missing or ['an init image']} from stage 1: pass --lsd CHECKPOINT, "
                             "or supply the maps yourself (--depth / --normal) or drop them (--drop NAME)")
        stage1_checkpoint = trained_checkpoint(request.lsd)
        stage1 = load_stage1(stage1_checkpoint, request.use_ema, request.device, dtype)
        # Stage 1 samples at the resolution it was trained at (its run's data.resolution).
        stage1_size = read_run_record(stage1_checkpoint.parent)["config"]["data"]["resolution"]
        threshold = stage1.cfg.data.keypoint_score_threshold
        pose = keypoints.pose_map(stage1_size, threshold) if keypoints else None  # None: training's zero latent
        generated = sample_lsd(stage1, [request.prompt], pose, request.stage1_steps, request.stage1_guidance_scale,
                               guidance_rescale=request.stage1_guidance_rescale,
                               negative_prompt=request.negative_prompt,
                               generator=torch.Generator().manual_seed(request.seed), size=stage1_size)
        (out / "stage1").mkdir(exist_ok=True)
        _save_rgb(generated.rgb[0], out / "stage1" / "rgb.png")
        _save_map("depth", generated.depth[0], out / "stage1" / "depth.png")
        _save_map("normal", generated.normal[0], out / "stage1" / "normal.png")
        for name in STAGE1_MAPS:
            if sources.get(name) == "stage1":
                value = resize_map(getattr(generated, name), size, is_normal=name == "normal")
                conditions[name] = minmax_per_image(value) if name == "depth" else value
        init_image = resize_map(generated.rgb, size) if request.init_strength < 1 else None
        stage1_record = {"checkpoint": str(stage1_checkpoint), "resolution": stage1_size, "steps": request.stage1_steps,
                         "guidance_scale": request.stage1_guidance_scale,
                         "guidance_rescale": request.stage1_guidance_rescale, "keypoint_score_threshold": threshold}

    image = sample_refiner(
        refiner, [request.prompt], conditions, request.steps, request.guidance_scale, request.negative_prompt,
        request.conditioning_scale, init_image, request.init_strength,
        generator=torch.Generator().manual_seed(request.seed + 1),
    )
    _save_rgb(image[0], out / "image.png")
    for name in names:
        channels = refiner.controlnet.condition_embedding.conditions[name]
        value = conditions.get(name, torch.zeros(1, channels, size, size))
        _save_map(name, value[0], out / "conditions" / f"{name}.png")

    record = {
        "request": asdict(request),
        "refiner": {"checkpoint": str(refiner.checkpoint), "resolution": size},
        "stage1": stage1_record,
        "condition_sources": sources,
        "seconds": round(time.perf_counter() - started, 3),
    }
    _atomic_json(out / "sample.json", record)
    log.info("wrote %s (conditions: %s)", out, sources)
    return record
