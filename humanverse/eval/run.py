"""One eval run: generate (or, in the self-check, take real images), then score, then write the report.

Output folder:
  eval.json              what was asked (models, data, N, seed, generation settings); a rerun with other
                         settings is refused unless forced, so cached images never mix two settings
  generated/{key}.png    one image per held-out sample, written atomically: the resume cache
  features/*.npz         feature caches of the metrics (per image set), so a rerun only scores what is new
  metrics.json           the metrics (written atomically, last)
  index.html             the grid: condition pose, generated, real, caption
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from humanverse.eval.config import EvalConfig
from humanverse.eval.degrade import DEGRADATIONS, degrade, shuffled
from humanverse.eval.heldout import HeldOut, read_heldout

log = logging.getLogger(__name__)


@dataclass
class EvalRequest:
    data: str | list[str]
    output: str
    num_samples: int
    lsd: str | None = None
    refiner: str | None = None
    seed: int = 0
    self_check: bool = False
    size: int = 512
    """Self-check only: the side real images are framed at (a generating eval uses the model's own)."""
    force: bool = False
    device: str = "cpu"
    dtype: str = "float32"
    cfg: EvalConfig = field(default_factory=EvalConfig)


def _atomic_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _png_bytes(image: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


def _settings(request: EvalRequest) -> dict:
    return {"data": request.data, "num_samples": request.num_samples, "lsd": request.lsd, "refiner": request.refiner,
            "seed": request.seed, "self_check": request.self_check,
            "size": request.size if request.self_check else None,
            "generation": request.cfg.generation.model_dump(mode="json")}


def _check_resume(out: Path, settings: dict, force: bool) -> None:
    record = out / "eval.json"
    if record.is_file() and not force:
        before = json.loads(record.read_text())
        if before != settings:
            changed = sorted(k for k in set(before) | set(settings) if before.get(k) != settings.get(k))
            raise ValueError(f"{out} holds an eval with other settings ({', '.join(changed)}); use another --output, "
                             "or --force to discard its cached images")
    if force:  # cached images and the features computed from them belong to the old settings
        for stale in [*(out / "generated").glob("*.png"), *(out / "features").glob("*.npz")]:
            stale.unlink()
    _atomic_bytes(record, json.dumps(settings, indent=2).encode())


def generate_all(request: EvalRequest, items: list[HeldOut], out: Path, progress) -> int:
    """Generate the samples not yet in the cache; returns the output side."""
    from humanverse.eval.generate import EvalGenerator, sample_seed

    generator = EvalGenerator(request.lsd, request.refiner, request.cfg.generation, request.device, request.dtype)
    for stale in (out / "generated").glob(".*.tmp"):  # a write a kill interrupted
        stale.unlink()
    todo = [(i, item) for i, item in enumerate(items) if not (out / "generated" / f"{item.key}.png").is_file()]
    progress(f"{len(items) - len(todo)} of {len(items)} images cached; generating {len(todo)}")
    started = time.perf_counter()
    for done, (index, item) in enumerate(todo, start=1):
        image = generator.generate(item, sample_seed(request.seed, index))
        pixels = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
        _atomic_bytes(out / "generated" / f"{item.key}.png", _png_bytes(pixels))
        rate = (time.perf_counter() - started) / done
        progress(f"generated {done}/{len(todo)} ({item.key}); {rate:.1f} s/image, ~{rate * (len(todo) - done):.0f} s left")
        del image
    return generator.size


class Scorer:
    """Loads the metric networks once; caches features per image set under features/."""

    def __init__(self, cfg: EvalConfig, out: Path):
        from humanverse.stages.pose import PoseStage
        from humanverse.eval.image_features import ClipScorer, clip_weights_file, load_inception
        from humanverse.core.model_check import check_all
        from humanverse.models.files import locate

        self.cfg, self.cache = cfg, out / "features"
        self.cache.mkdir(exist_ok=True)
        features = cfg.features
        self.pose_stage = PoseStage(cfg.pose.pose, cfg.models_dir)
        check_all([lambda: locate(features.inception_weights, [], cfg.models_dir),
                   lambda: clip_weights_file(features.clip_weights, cfg.models_dir),
                   self.pose_stage.check_models])
        self.inception = load_inception(locate(features.inception_weights, [], cfg.models_dir), features.inception_dims)
        self.clip = ClipScorer(features.clip_arch, clip_weights_file(features.clip_weights, cfg.models_dir))
        self.pose_stage.setup()

    def features(self, name: str, keys: list[str], images: list[np.ndarray]) -> dict[str, np.ndarray]:
        from humanverse.eval.image_features import inception_features

        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:12]
        path = self.cache / f"{name}-{digest}-i{self.cfg.features.inception_dims}.npz"
        if path.is_file():
            with np.load(path) as cached:
                return dict(cached)
        result = {"inception": inception_features(self.inception, images, self.cfg.features.batch_size),
                  "clip": self.clip.image_embeddings(images, self.cfg.features.batch_size)}
        tmp = path.with_name(f".{path.stem}.tmp.npz")
        np.savez(tmp, **result)
        os.replace(tmp, path)
        return result

    def score(self, real: dict, fake: dict, fake_images: list[np.ndarray], captions: list[str], conditions) -> dict:
        from humanverse.eval.image_metrics import clip_score, frechet_distance, kernel_distance
        from humanverse.eval.pose_accuracy import pose_accuracy

        kid, kid_std = kernel_distance(real["inception"], fake["inception"], self.cfg.features.kid_subset_size)
        return {
            "fid": frechet_distance(real["inception"], fake["inception"]),
            "kid": kid,
            "kid_std": kid_std,
            "fid_clip": frechet_distance(real["clip"], fake["clip"]),
            "clip_score": clip_score(fake["clip"], self.clip.text_embeddings(captions)),
            "pose": pose_accuracy(self.pose_stage, fake_images, conditions, self.cfg.pose),
        }


def run_eval(request: EvalRequest, progress=print) -> dict:
    started = time.perf_counter()
    out = Path(request.output)
    (out / "generated").mkdir(parents=True, exist_ok=True)
    if not request.self_check and not request.lsd:
        raise ValueError("give --lsd RUN (or --self-check to score real images as if generated)")
    _check_resume(out, _settings(request), request.force)
    items = read_heldout(request.data, request.num_samples)
    if len(items) < 2:
        raise ValueError(f"{len(items)} usable held-out samples in {request.data!r} (samples need persons with "
                         "keypoints); FID and KID need at least 2")
    progress(f"{len(items)} held-out samples from {request.data}")
    size = request.size if request.self_check else generate_all(request, items, out, progress)

    keys, captions = [it.key for it in items], [it.caption for it in items]
    real = [it.framed_image(size) for it in items]
    conditions = [it.condition(size) for it in items]
    progress("scoring (loading the metric networks)")
    scorer = Scorer(request.cfg, out)
    real_features = scorer.features(f"real{size}", keys, real)
    if request.self_check:
        variants = {"real": real, **{kind: [degrade(im, kind, i) for i, im in enumerate(real)] for kind in DEGRADATIONS}}
        results = {}
        for name, images in variants.items():
            progress(f"self-check: scoring {name}")
            fake = scorer.features(f"selfcheck-{name}{size}", keys, images)
            results[name] = scorer.score(real_features, fake, images, captions, conditions)
        results["shuffled_captions"] = scorer.score(real_features, real_features, real, shuffled(captions, request.seed),
                                                    conditions)
        generated = variants["real"]
        metrics = {"self_check": True, "variants": results}
    else:
        generated = [_read_png(out / "generated" / f"{k}.png") for k in keys]
        fake = scorer.features("generated", keys, generated)
        metrics = scorer.score(real_features, fake, generated, captions, conditions)
    metrics.update({
        "num_samples": len(items), "size": size, "seed": request.seed, "lsd": request.lsd, "refiner": request.refiner,
        "data": request.data, "pose_backend": request.cfg.pose.pose.backend,
        "definitions": {
            "fid": f"torchmetrics FID on InceptionV3 features ({request.cfg.features.inception_dims}-d; 2048 = pool3, "
                   "the standard), torch-fidelity's TF-FID weights",
            "kid": f"torchmetrics KID, polynomial kernel, subset size min({request.cfg.features.kid_subset_size}, N)",
            "fid_clip": f"FID on L2-normalised {request.cfg.features.clip_arch} image embeddings",
            "clip_score": "mean 100 * max(cos(image, caption), 0)",
            "pose": "PCK: pose stage on the generated image, top-down on the condition boxes; correct within "
                    "alpha x condition box long side",
        },
        "seconds": round(time.perf_counter() - started, 1),
    })
    _atomic_bytes(out / "metrics.json", json.dumps(metrics, indent=2).encode())
    _write_grid(out, items, generated, real, size, metrics)
    return metrics


def _write_grid(out: Path, items: list[HeldOut], generated, real, size: int, metrics: dict, limit: int = 32) -> None:
    from humanverse.eval.grid_html import render_grid
    from humanverse.train.common.pose_render import render_pose

    rows = []
    for item, gen, rl in list(zip(items, generated, real))[:limit]:
        condition = item.condition(size)
        pose = render_pose(list(condition.keypoints), size, size)
        rows.append({"key": item.key, "caption": item.caption, "condition": pose, "generated": gen, "real": rl})
    _atomic_bytes(out / "index.html", render_grid(rows, metrics).encode())
