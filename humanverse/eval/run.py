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
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from humanverse.step_progress import StepProgress
from humanverse.eval.config import EvalConfig
from humanverse.eval.degrade import DEGRADATIONS, degrade, shuffled
from humanverse.eval.heldout import HeldOut, read_heldout
from humanverse.shards import atomic

log = logging.getLogger(__name__)


@dataclass
class EvalRequest:
    data: str | list[str]
    output: str
    num_samples: int
    lsd: str | None = None
    refiner: str | None = None
    method: str = "hyperhuman"
    """hyperhuman (--lsd, optional --refiner) or hand-first (--hand and --body; adds hand metrics)."""
    hand: str | None = None
    body: str | None = None
    seed: int = 0
    self_check: bool = False
    size: int = 512
    """Self-check only: the side real images are framed at (a generating eval uses the model's own)."""
    force: bool = False
    device: str = "cpu"
    dtype: str = "float32"
    cfg: EvalConfig = field(default_factory=EvalConfig)
    offline: bool = False
    """Random-weight metric networks built on first use (eval/offline.py); figures labelled as meaningless."""


def _png_bytes(image: np.ndarray) -> bytes:
    import io

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))


HAND_FIRST_GENERATION = {"blend_erosion_per_step", "blend_stop", "hand_margin"}


def _settings(request: EvalRequest) -> dict:
    hand_first = request.method == "hand-first"
    settings = {"data": request.data, "num_samples": request.num_samples, "lsd": request.lsd,
                "refiner": request.refiner, "seed": request.seed, "self_check": request.self_check,
                "size": request.size if request.self_check else None,
                "generation": request.cfg.generation.model_dump(
                    mode="json", exclude=None if hand_first else HAND_FIRST_GENERATION)}
    if request.offline:  # random-network features must never mix with real ones in the cache
        settings["offline"] = True
    if hand_first:  # a HyperHuman eval's record stays as it was, so its cache still resumes
        settings.update(method=request.method, hand=request.hand, body=request.body,
                        hands=request.cfg.hands.model_dump(mode="json"))
    return settings


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
    atomic.write_bytes(str(record), json.dumps(settings, indent=2).encode())


def generate_all(request: EvalRequest, items: list[HeldOut], out: Path, progress) -> int:
    """Generate the samples not yet in the cache; returns the output side."""
    from humanverse.eval.generate import EvalGenerator, HandFirstEvalGenerator, sample_seed

    if request.method == "hand-first":
        generator = HandFirstEvalGenerator(request.hand, request.body, request.cfg.generation, request.device,
                                           request.dtype)
    else:
        generator = EvalGenerator(request.lsd, request.refiner, request.cfg.generation, request.device, request.dtype)
    atomic.remove_stale_temporaries(str(out / "generated"))  # writes a kill interrupted
    todo = [(i, item) for i, item in enumerate(items) if not (out / "generated" / f"{item.key}.png").is_file()]
    progress(f"{len(items) - len(todo)} of {len(items)} images cached; generating {len(todo)}")
    with StepProgress(len(todo), "eval: generating", unit="images", every_s=0) as bar:  # each image is slow
        for index, item in todo:
            image = generator.generate(item, sample_seed(request.seed, index))
            pixels = (image.clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            atomic.write_bytes(str(out / "generated" / f"{item.key}.png"), _png_bytes(pixels))
            bar.advance(info=item.key)
            del image
    return generator.size


def check_eval_models(cfg: EvalConfig) -> None:
    """Every metric and pose weight file, checked at once: one MissingModelFiles naming all that is missing
    (the CLI exits 2), raised before anything is generated."""
    from humanverse.core.model_check import check_all
    from humanverse.eval.image_features import clip_weights_file
    from humanverse.models.files import locate
    from humanverse.stages.pose import PoseStage

    features = cfg.features
    check_all([lambda: locate(features.inception_weights, [], cfg.models_dir),
               lambda: clip_weights_file(features.clip_weights, cfg.models_dir),
               PoseStage(cfg.pose.pose, cfg.models_dir).check_models])


class Scorer:
    """Loads the metric networks once; caches features per image set under features/."""

    def __init__(self, cfg: EvalConfig, out: Path):
        from humanverse.stages.pose import PoseStage
        from humanverse.eval.image_features import ClipScorer, clip_weights_file, load_inception
        from humanverse.models.files import locate

        self.cfg, self.cache = cfg, out / "features"
        self.cache.mkdir(exist_ok=True)
        features = cfg.features
        self.pose_stage = PoseStage(cfg.pose.pose, cfg.models_dir)
        check_eval_models(cfg)
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
        with atomic.staged_file(str(path)) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **result)
        return result

    def score(self, real: dict, fake: dict, fake_images: list[np.ndarray], captions: list[str], conditions,
              hands: dict | None = None) -> dict:
        """hands (hand-first): {"real": the real hand crops' features, "keys": the samples' keys, "name": this
        image set's name} adds hand PCK and hand-crop FID/KID under "hands"."""
        from humanverse.eval.image_metrics import clip_score, frechet_distance, kernel_distance
        from humanverse.eval.pose_accuracy import estimate, pose_accuracy

        kid, kid_std = kernel_distance(real["inception"], fake["inception"], self.cfg.features.kid_subset_size)
        estimates = estimate(self.pose_stage, fake_images, conditions)
        scores = {
            "fid": frechet_distance(real["inception"], fake["inception"]),
            "kid": kid,
            "kid_std": kid_std,
            "fid_clip": frechet_distance(real["clip"], fake["clip"]),
            "clip_score": clip_score(fake["clip"], self.clip.text_embeddings(captions)),
            "pose": pose_accuracy(self.pose_stage, fake_images, conditions, self.cfg.pose, estimates),
        }
        if hands is not None:
            scores["hands"] = self.hand_scores(hands, fake_images, conditions, estimates)
        return scores

    def hand_features(self, name: str, keys: list[str], images: list[np.ndarray], conditions) -> dict[str, np.ndarray]:
        from humanverse.eval.hand_accuracy import hand_crops

        cfg = self.cfg.hands
        crop_keys, crops = hand_crops(images, conditions, keys, self.cfg.pose.min_condition_score, cfg.box_margin,
                                      cfg.crop_size)
        if len(crops) < 2:
            raise ValueError(f"{len(crops)} condition hands in the held-out samples; hand FID/KID need at least 2")
        return self.features(f"hands-{name}-{cfg.crop_size}", crop_keys, crops)

    def hand_scores(self, hands: dict, images: list[np.ndarray], conditions, estimates) -> dict:
        from humanverse.eval.hand_accuracy import hand_pck
        from humanverse.eval.image_metrics import frechet_distance, kernel_distance

        fake = self.hand_features(hands["name"], hands["keys"], images, conditions)
        real = hands["real"]
        kid, kid_std = kernel_distance(real["inception"], fake["inception"], self.cfg.features.kid_subset_size)
        sizes = [(im.shape[1], im.shape[0]) for im in images]
        return {"fid": frechet_distance(real["inception"], fake["inception"]), "kid": kid, "kid_std": kid_std,
                "num_crops": int(len(real["inception"])),
                "pose": hand_pck(estimates, conditions, sizes, self.cfg.hands.pck_alpha,
                                 self.cfg.pose.min_condition_score)}


def run_eval(request: EvalRequest, progress=print) -> dict:
    started = time.perf_counter()
    out = Path(request.output)
    if request.offline:
        from dataclasses import replace

        from humanverse.eval.offline import offline_config

        progress("offline: random-weight metric networks (built on first use); the figures mean nothing")
        request = replace(request, cfg=offline_config(request.cfg))
    check_eval_models(request.cfg)  # before anything is generated or written
    (out / "generated").mkdir(parents=True, exist_ok=True)
    if request.method not in ("hyperhuman", "hand-first"):
        raise ValueError(f"unknown method {request.method!r}; hyperhuman or hand-first")
    if not request.self_check and request.method == "hand-first" and not (request.hand and request.body):
        raise ValueError("--method hand-first needs --hand RUN and --body RUN (or --self-check)")
    if not request.self_check and request.method == "hyperhuman" and not request.lsd:
        raise ValueError("give --lsd RUN (or --self-check to score real images as if generated)")
    _check_resume(out, _settings(request), request.force)
    skipped: Counter[str] = Counter()
    items = read_heldout(request.data, request.num_samples, skipped)
    if skipped:
        progress(f"skipped {sum(skipped.values())} bad held-out samples: {dict(skipped)}")
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
    hands = None
    if request.method == "hand-first":
        hands = {"real": scorer.hand_features(f"real{size}", keys, real, conditions), "keys": keys}

    def with_name(name: str) -> dict | None:
        return None if hands is None else {**hands, "name": name}

    if request.self_check:
        variants = {"real": real, **{kind: [degrade(im, kind, i) for i, im in enumerate(real)] for kind in DEGRADATIONS}}
        results = {}
        for name, images in variants.items():
            progress(f"self-check: scoring {name}")
            fake = scorer.features(f"selfcheck-{name}{size}", keys, images)
            results[name] = scorer.score(real_features, fake, images, captions, conditions,
                                         with_name(f"selfcheck-{name}{size}"))
        results["shuffled_captions"] = scorer.score(real_features, real_features, real, shuffled(captions, request.seed),
                                                    conditions, with_name(f"real{size}"))
        generated = variants["real"]
        metrics = {"self_check": True, "variants": results}
    else:
        generated = [_read_png(out / "generated" / f"{k}.png") for k in keys]
        fake = scorer.features("generated", keys, generated)
        metrics = scorer.score(real_features, fake, generated, captions, conditions, with_name("generated"))
    metrics.update({
        "num_samples": len(items), "size": size, "seed": request.seed, "lsd": request.lsd, "refiner": request.refiner,
        **({"method": "hand-first", "hand": request.hand, "body": request.body} if hands is not None else {}),
        "data": request.data, "pose_backend": request.cfg.pose.pose.backend,
        "definitions": {
            "fid": f"torchmetrics FID on InceptionV3 features ({request.cfg.features.inception_dims}-d; 2048 = pool3, "
                   "the standard), torch-fidelity's TF-FID weights",
            "kid": f"torchmetrics KID, polynomial kernel, subset size min({request.cfg.features.kid_subset_size}, N)",
            "fid_clip": f"FID on L2-normalised {request.cfg.features.clip_arch} image embeddings",
            "clip_score": "mean 100 * max(cos(image, caption), 0)",
            "pose": "PCK: pose stage on the generated image, top-down on the condition boxes; correct within "
                    "alpha x condition box long side",
            **({"hands": "hands.pose: PCK of the pose stage's 2 x 21 hand points, correct within alpha x the long "
                         "side of the condition hand's tight keypoint box; hands.fid/kid: the same on square crops "
                         "around each condition hand (margin box_margin, crop_size px)"} if hands is not None else {}),
        },
        "seconds": round(time.perf_counter() - started, 1),
    })
    if request.offline:
        from humanverse.eval.offline import RANDOM_LABEL

        metrics["random_weights"] = True
        metrics["definitions"]["random_weights"] = RANDOM_LABEL
    atomic.write_bytes(str(out / "metrics.json"), json.dumps(metrics, indent=2).encode())
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
    title = "humanverse eval" + (" (OFFLINE: random-weight metric networks, figures mean nothing)"
                                 if metrics.get("random_weights") else "")
    atomic.write_bytes(str(out / "index.html"), render_grid(rows, metrics, title=title).encode())
