"""Does `train lsd` learn? Trains the tiny preset from scratch on a few real kit photos and measures it against
trivial baselines, not only against the untrained model (issue 28).

What is real and what is derived:
- photos: the kit's people photos whose licences allow showing them (CC BY / CC0 / public domain), plus their
  mirror images (a mirrored photo is a different pose with the same look: a harder memorisation test);
- pose and person mask: the project's own MediaPipe backends (models/pose, models/mask) on each photo;
- depth and normals: DERIVED, deterministic structure maps (the demo's annotators have random weights, their
  maps are noise): inverse depth = a far flat background, the person nearer the lower their feet stand in the
  frame, rounded by the mask's distance transform; normals from that depth's gradient;
- caption: one caption for every sample, so the pose is the only thing that tells the samples apart: a model
  that memorises them must read its pose condition;
- VAE: the tiny VAE is random, so it is first trained briefly on the same images (all four modalities and the
  pose maps) and saved where the trainer's load_frozen reads it; the UNet then trains from scratch through
  `train_lsd` with the tiny preset, and samples come from `sample_lsd` (DDIM, the project's sampler).

Run: PYTHONPATH=$PWD .venv/bin/python bench/learning.py  (writes bench/LEARNING.md + PNGs; ~25 min for LSD on a
shared 2-core machine); with --quick short runs that report into bench/.out/learning/ (a wiring check). Every
method (lsd, refiner, hand, hand-body; METHODS) writes its own section of LEARNING.md: `--methods refiner`
regenerates that section and its PNGs and keeps the others as they are.
"""

from __future__ import annotations

import argparse
import multiprocessing
import io
import json
import logging
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
import webdataset as wds
from PIL import Image
from scipy.ndimage import distance_transform_edt, gaussian_filter
from scipy.stats import spearmanr

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path.insert(0, str(REPO))

from humanverse.shards.encoding import NORMAL_CONVENTION, encode_depth16, encode_normal  # noqa: E402
from humanverse.train.common.config import load_config  # noqa: E402
from humanverse.train.common.shard_data import make_dataloader  # noqa: E402
from humanverse.train.lsd.components import FROZEN_DIR  # noqa: E402
from humanverse.train.lsd.config import LSDConfig  # noqa: E402

# Kit photos that may be shown (MANIFEST.md licences): CC BY 2.0, public domain, CC0, public domain.
SHOWABLE_PHOTOS = ("coco_000000000785.jpg", "skimage_astronaut.png", "skimage_camera.png", "pillow_hopper.jpg")
CAPTION = "a photo of a person"
SHARD_SIZE = 64
BACKGROUND_DEPTH = 0.15
FOREGROUND_THRESHOLD = 0.3  # between the background's inverse depth and the nearest a person can be (0.4)


@dataclass
class PersonPhoto:
    key: str
    image: np.ndarray  # SHARD_SIZE² x 3 uint8
    keypoints: np.ndarray  # 133 x 3 in image pixels
    mask: np.ndarray  # SHARD_SIZE² float in [0, 1]


def square_around(mask: np.ndarray) -> tuple[int, int, int]:
    """The largest square inside the image centred (as far as it fits) on the person's mask."""
    h, w = mask.shape
    side = min(h, w)
    ys, xs = np.nonzero(mask > 0.5)
    cy, cx = (ys.mean(), xs.mean()) if len(ys) else (h / 2, w / 2)
    y0 = int(np.clip(cy - side / 2, 0, h - side))
    x0 = int(np.clip(cx - side / 2, 0, w - side))
    return x0, y0, side


def annotate_photos(people_dir: Path, names=SHOWABLE_PHOTOS, mirror: bool = True) -> list[PersonPhoto]:
    """Pose and mask from the project's MediaPipe backends on each full photo, cropped square to SHARD_SIZE."""
    from humanverse.models.mask.mask_mediapipe import SelfieSegmentation
    from humanverse.models.pose.pose_mediapipe import MediaPipeWholeBody

    pose_model, mask_model = MediaPipeWholeBody(holistic=True), SelfieSegmentation()
    photos = []
    try:
        for name in names:
            image = np.asarray(Image.open(people_dir / name).convert("RGB"))
            mask = mask_model([image])[0].astype(np.float32)
            x0, y0, side = square_around(mask)
            crop = np.ascontiguousarray(image[y0:y0 + side, x0:x0 + side])
            keypoints = pose_model(crop[None])[0]
            scale = SHARD_SIZE / side
            keypoints[:, :2] *= scale
            small = np.asarray(Image.fromarray(crop).resize((SHARD_SIZE, SHARD_SIZE), Image.BICUBIC))
            small_mask = np.asarray(Image.fromarray(mask[y0:y0 + side, x0:x0 + side]).resize(
                (SHARD_SIZE, SHARD_SIZE), Image.BILINEAR))
            stem = Path(name).stem
            photos.append(PersonPhoto(stem, small, keypoints, small_mask))
            if mirror:
                flipped = keypoints.copy()
                flipped[:, 0] = SHARD_SIZE - 1 - flipped[:, 0]
                photos.append(PersonPhoto(stem + "_mirror", small[:, ::-1].copy(), flipped, small_mask[:, ::-1].copy()))
    finally:
        pose_model.close()
        mask_model.close()
    return photos


def structure_maps(mask: np.ndarray, keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DERIVED inverse depth in [0, 1] (near = 1) and unit normals (camera frame, x right, y up, z to camera)."""
    h, w = mask.shape
    person = mask > 0.5
    visible = keypoints[:, 2] >= 0.3
    feet = keypoints[visible, 1].max() / h if visible.any() else 0.5
    near = 0.4 + 0.35 * float(np.clip(feet, 0, 1))
    rounded = distance_transform_edt(person)
    rounded = rounded / rounded.max() if rounded.max() > 0 else rounded
    depth = np.where(person, near + 0.25 * np.sqrt(rounded), BACKGROUND_DEPTH)
    depth = gaussian_filter(depth, 0.8).clip(0, 1)
    dy, dx = np.gradient(depth * 8)
    normal = np.stack([-dx, dy, np.ones_like(depth)], axis=-1)
    return depth.astype(np.float32), normal / np.linalg.norm(normal, axis=-1, keepdims=True)


def write_shard(photos: list[PersonPhoto], out_dir: Path) -> list[str]:
    """One contract shard (DESIGN §5 members) of the photos with their derived maps."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "00000-000.tar"
    with wds.TarWriter(str(path)) as sink:
        for photo in photos:
            depth, normal = structure_maps(photo.mask, photo.keypoints)
            depth_png, depth_range = encode_depth16(depth)
            jpg = io.BytesIO()
            Image.fromarray(photo.image).save(jpg, format="JPEG", quality=95)
            meta = {
                "source": {"dataset": "realdata-kit", "id": photo.key},
                "width": SHARD_SIZE, "height": SHARD_SIZE,
                "persons": [{"box": [0, 0, SHARD_SIZE, SHARD_SIZE], "score": 1.0, "area_frac": float(photo.mask.mean()),
                             "keypoints": photo.keypoints.tolist()}],
                "depth": {"range": depth_range, "model": "derived: mask + feet height"},
                "normal": {"convention": NORMAL_CONVENTION, "model": "derived: depth gradient"},
            }
            sink.write({"__key__": photo.key, "jpg": jpg.getvalue(), "txt": CAPTION, "json": json.dumps(meta),
                        "depth.png": depth_png, "normal.png": encode_normal(normal)})
    return [str(path)]


def bench_config(steps: int, seed: int, checkpoint_every: int, batch_size: int, extra: list[str] = ()) -> LSDConfig:
    """The tiny preset with what a memorisation run needs: whole images, no dropout, a full-set batch."""
    return load_config(LSDConfig, preset="lsd_tiny", overrides=[
        "data.resolution=32", f"data.batch_size={batch_size}", "data.crop_scale=[1, 1]", "data.shuffle_buffer=0",
        "objective.text_dropout=0", "objective.pose_dropout=0", "optim.learning_rate=1e-3", "optim.weight_decay=0",
        f"loop.max_steps={steps}", f"loop.checkpointing_steps={checkpoint_every}", f"loop.seed={seed}",
        "loop.log_every=50", "ema.enabled=false", *extra])


def fixed_batch(shards: list[str], cfg: LSDConfig, count: int) -> dict:
    """All training samples, decoded once in key order (the evaluation set of a memorisation run)."""
    one = cfg.model_copy(update={"data": cfg.data.model_copy(update={"batch_size": count})})
    batch = next(iter(make_dataloader(shards, one.data, seed=0)))
    order = sorted(range(count), key=lambda i: batch["key"][i])
    return {k: (v[order] if isinstance(v, torch.Tensor) else [v[i] for i in order]) for k, v in batch.items()}


def pretrain_vae(cfg: LSDConfig, batch: dict, vae_dir: Path, steps: int, seed: int) -> float:
    """Train the tiny random VAE on the runs' own images (every modality and the pose maps) and save it to
    vae_dir (train_run puts it where load_frozen reads a random-VAE run's VAE). Returns the final
    reconstruction PSNR (dB) on those images."""
    from diffusers import AutoencoderKL

    from humanverse.train.lsd.train import modality_images

    torch.manual_seed(seed)
    vae = AutoencoderKL.from_config(cfg.model.vae)
    reconstruction_psnr = fit_vae(vae, torch.cat([*modality_images(batch).values(), batch["pose"] * 2 - 1]), steps)
    vae.save_pretrained(vae_dir)
    return reconstruction_psnr


def fit_vae(vae, images: torch.Tensor, steps: int) -> float:
    """Full-batch training of a VAE on images in [-1, 1] (reconstruction + a tiny KL); returns the final
    reconstruction PSNR (dB) of the posterior modes."""
    optimizer = torch.optim.Adam(vae.parameters(), lr=2e-3)
    for _ in range(steps):
        posterior = vae.encode(images).latent_dist
        recon = vae.decode(posterior.sample()).sample
        loss = torch.nn.functional.mse_loss(recon, images) + 1e-6 * posterior.kl().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        recon = vae.decode(vae.encode(images).latent_dist.mode()).sample
    return psnr(recon.clamp(-1, 1) / 2 + 0.5, images / 2 + 0.5).mean().item()


class ConstantPredictor(torch.nn.Module):
    """Predicts one constant per modality and latent channel, whatever the input."""

    def __init__(self, modalities, channels: int = 4):
        super().__init__()
        self.value = torch.nn.ParameterDict({m: torch.nn.Parameter(torch.zeros(1, channels, 1, 1)) for m in modalities})

    def forward(self, noisy, pose_latent, timesteps, context):
        return {name: self.value[name].expand_as(z) for name, z in noisy.items()}


def constant_losses(objective_of, cfg: LSDConfig) -> dict[str, dict[str, float]]:
    """Through the trainer's own objective on the fixed draw: zero (loss = E[v²]) and the best constant per
    modality and channel (E[v], found exactly: the loss is quadratic in it, so one gradient at zero gives it)."""
    model = ConstantPredictor(cfg.objective.MODALITIES)
    total, zero = objective_of(model)
    total.backward()
    weights = cfg.objective.modality_weights
    norm = sum(weights.values()) if cfg.objective.modality_reduction == "mean" else 1.0
    with torch.no_grad():
        for name, value in model.value.items():
            # d total / d c_k = (w / norm) * (2 / C) * (c_k - E[v_k]); at c = 0 that gives E[v_k].
            value.copy_(-value.grad * value.shape[1] * norm / (2 * weights[name]))
    _, best = objective_of(model)
    return {"zero": zero, "best": best}


def validation_losses(run_dir: Path, cfg: LSDConfig, batch: dict) -> list[dict]:
    """Per checkpoint, each modality's loss on the fixed set with fixed noise and timesteps (seed 1234), and
    the constant predictor's on the same draw."""
    from humanverse.train.lsd.sample import load_stage1
    from humanverse.train.lsd.train import LSDObjective

    def objective_of(model, frozen, stats):
        objective = LSDObjective(model, frozen, stats, cfg, torch.device("cpu"))
        return objective.loss(batch, generator=torch.Generator().manual_seed(1234))

    rows = []
    checkpoints = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    for checkpoint in checkpoints:
        stage1 = load_stage1(checkpoint, use_ema=False)
        with torch.no_grad():
            row = {"step": int(checkpoint.name.split("-")[1]),
                   **objective_of(stage1.unet, stage1.frozen, stage1.stats)[1]}
        if not rows:
            constants = constant_losses(lambda m: objective_of(m, stage1.frozen, stage1.stats), cfg)
            rows.append({"step": "zero (E[v²])", **constants["zero"]})
            rows.append({"step": "best constant", **constants["best"]})
        rows.append(row)
    return rows


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR (dB) of images in [0, 1]."""
    mse = ((a - b) ** 2).flatten(1).mean(1).clamp_min(1e-10)
    return 10 * torch.log10(1 / mse)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def derangement(n: int) -> list[int]:
    """Each sample gets another sample's pose: the one two places on (mirror twins sit next to each other)."""
    return [(i + 2) % n if n > 2 else (i + 1) % n for i in range(n)]


def memorisation(run_dir: Path, batch: dict, steps: int, seed: int = 0) -> dict:
    """Sample every training pose with the training caption (DDIM, no guidance: every caption is the same) and
    score the samples against the training images, depth and normal maps, and against trivial baselines."""
    from humanverse.train.lsd.sample import load_stage1, sample_lsd

    stage1 = load_stage1(run_dir, use_ema=False)
    n = len(batch["key"])
    prompts = list(batch["caption"])

    def draw(poses):
        return sample_lsd(stage1, prompts, poses, num_inference_steps=steps, guidance_scale=1.0,
                          generator=torch.Generator().manual_seed(seed))

    right = draw(batch["pose"])
    shuffle = derangement(n)
    shuffled = draw(batch["pose"][shuffle])

    real = batch["image"] / 2 + 0.5
    table = torch.stack([psnr(right.rgb[i:i + 1].expand_as(real), real) for i in range(n)])  # sample x real
    own = table.diagonal()
    mean_image = real.mean(0, keepdim=True)
    baseline = psnr(mean_image.expand_as(real), real)

    depth_true = batch["depth"][:, 0].numpy()
    rows = np.tile(np.linspace(0, 1, depth_true.shape[1])[:, None], (1, depth_true.shape[2]))
    rank = [spearmanr(right.depth[i, 0].numpy().ravel(), depth_true[i].ravel())[0] for i in range(n)]
    gradient_rank = [spearmanr(rows.ravel(), depth_true[i].ravel())[0] for i in range(n)]

    normal_true = batch["normal"] / batch["normal"].norm(dim=1, keepdim=True).clamp_min(1e-6)
    angle = torch.rad2deg(torch.acos((right.normal * normal_true).sum(1).clamp(-1, 1))).mean().item()
    mean_normal = normal_true.mean((0, 2, 3), keepdim=True)
    mean_normal = mean_normal / mean_normal.norm(dim=1, keepdim=True)
    angle_const = torch.rad2deg(torch.acos((mean_normal * normal_true).sum(1).clamp(-1, 1))).mean().item()

    masks = depth_true > FOREGROUND_THRESHOLD
    right_iou = [iou(right.depth[i, 0].numpy() > FOREGROUND_THRESHOLD, masks[i]) for i in range(n)]
    # The sample drawn with pose shuffle[i] against that pose's person, and against the caption's own sample's.
    follows = [iou(shuffled.depth[i, 0].numpy() > FOREGROUND_THRESHOLD, masks[shuffle[i]]) for i in range(n)]
    ignores = [iou(shuffled.depth[i, 0].numpy() > FOREGROUND_THRESHOLD, masks[i]) for i in range(n)]
    return {
        "nearest_own": float((table.argmax(1) == torch.arange(n)).float().mean()),
        "psnr_own": own.mean().item(),
        "psnr_mean_image": baseline.mean().item(),
        "psnr_gain_db": (own - baseline).mean().item(),
        "depth_rank": float(np.mean(rank)),
        "gradient_rank": float(np.mean(gradient_rank)),
        "normal_angle_deg": angle,
        "normal_angle_constant_deg": angle_const,
        "iou_right_pose": float(np.mean(right_iou)),
        "iou_shuffled_pose_vs_own_mask": float(np.mean(ignores)),
        "iou_shuffled_pose_vs_its_mask": float(np.mean(follows)),
        "iou_gap": float(np.mean(right_iou) - np.mean(ignores)),
        "_samples": right,
    }


def train_run(shards: list[str], batch: dict, run_dir: Path, steps: int, seed: int, vae_dir: Path,
              extra: list[str] = ()) -> dict:
    """`train_lsd` (the CLI's function) with the tiny preset and the pretrained VAE as its frozen VAE; returns
    the validation rows."""
    import shutil

    from humanverse.train.lsd.train import train_lsd

    torch.set_num_threads(1)
    cfg = bench_config(steps, seed, max(1, steps // 4), len(batch["key"]), extra)
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(vae_dir, run_dir / FROZEN_DIR / "vae")
    started = time.perf_counter()
    train_lsd(cfg, shards, run_dir)
    return {"cfg": cfg, "train_s": time.perf_counter() - started, "val": validation_losses(run_dir, cfg, batch)}


def run_and_score(shards, batch, run_dir, steps, seed, vae_dir, extra, sample_steps) -> dict:
    """One benchmark run: train, then memorisation and conditioning figures (a process of its own)."""
    run = train_run(shards, batch, run_dir, steps, seed, vae_dir, extra)
    run["mem"] = memorisation(run_dir, batch, sample_steps, seed)
    return run


def loss_ratios(val: list[dict]) -> dict[str, float]:
    """Last checkpoint's loss over the best constant predictor's, per modality."""
    constant, last = val[1], val[-1]
    return {name: last[f"loss_{name}"] / constant[f"loss_{name}"] for name in ("rgb", "depth", "normal")}


def save_curve(val: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    constant, rows = val[1], val[2:]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for name, colour in (("rgb", "C0"), ("depth", "C1"), ("normal", "C2")):
        ax.plot([r["step"] for r in rows], [r[f"loss_{name}"] for r in rows], "o-", color=colour, label=name)
        ax.axhline(constant[f"loss_{name}"], color=colour, ls="--", lw=0.8)
    ax.set_xlabel("step")
    ax.set_ylabel("v-loss, fixed noise + timesteps")
    ax.set_title("validation loss (dashed: best constant predictor)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_grid(batch: dict, samples, path: Path, scale: int = 3) -> None:
    """Rows: the samples; columns: condition pose, generated RGB, depth, normal, the real image."""
    n = len(batch["key"])

    def tile(t):  # (3|1, H, W) in [0, 1]
        a = (t.clamp(0, 1).expand(3, -1, -1).permute(1, 2, 0).numpy() * 255).astype(np.uint8)
        return np.kron(a, np.ones((scale, scale, 1), dtype=np.uint8))

    rows = [np.concatenate([tile(batch["pose"][i]), tile(samples.rgb[i]), tile(samples.depth[i]),
                            tile(samples.normal[i] / 2 + 0.5), tile(batch["image"][i] / 2 + 0.5)], axis=1)
            for i in range(n)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


# Each method's check: (bench-local module, function(out, target, quick) -> its markdown section). A method's
# module is imported only when it runs, so one whose file is not there yet is skipped with a note.
METHODS = {
    "lsd": ("learning", "run_lsd"),
    "refiner": ("learning_refiner", "run_refiner"),
    "hand": ("learning_hand", "run_hand"),
    "hand-body": ("learning_hand", "run_hand_body"),
}
SECTION_START, SECTION_END = "<!-- learning: {} -->", "<!-- /learning: {} -->"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs of each method (a developer check, ≤ 5 min)")
    parser.add_argument("--methods", default=",".join(METHODS),
                        help="comma-separated methods to run; the others' sections in LEARNING.md are kept as they are")
    parser.add_argument("--out", default=str(BENCH / ".out" / "learning"))
    args = parser.parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        parser.error(f"unknown methods {unknown}; choose from {list(METHODS)}")
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)  # a shared 2-core machine: more threads spin against each other
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # The quick check reports into its scratch folder; only the full benchmark rewrites bench/LEARNING.md.
    target = out if args.quick else BENCH
    # One process per method, side by side: on 2 cores a single-threaded method leaves the other core free.
    with ProcessPoolExecutor(len(methods), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {method: pool.submit(run_method, method, out, target, args.quick) for method in methods}
        sections = {method: future.result() for method, future in futures.items()}
    for method, section in sections.items():
        print(section or f"{method}: skipped, bench/{METHODS[method][0]}.py is not there", flush=True)
    write_sections(target / "LEARNING.md", {method: section for method, section in sections.items() if section})
    return 0


def run_method(method: str, out: Path, target: Path, quick: bool) -> str | None:
    """One method's check, in a process of its own; None when its module is not there (yet)."""
    import importlib

    torch.set_num_threads(1)
    module_name, function = METHODS[method]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        return None
    return getattr(module, function)(out, target, quick)


def write_sections(path: Path, sections: dict[str, str]) -> None:
    """Replace the given methods' sections of the report (or add them), keep the others, list the missing."""
    text = path.read_text() if path.is_file() else ""
    kept = {}
    for method in METHODS:
        start, end = SECTION_START.format(method), SECTION_END.format(method)
        if method in sections:
            kept[method] = sections[method].strip()
        elif start in text and end in text:
            kept[method] = text.split(start, 1)[1].split(end, 1)[0].strip()
    parts = [f"{SECTION_START.format(m)}\n{body}\n{SECTION_END.format(m)}" for m, body in kept.items()]
    missing = [m for m in METHODS if m not in kept]
    if missing:
        parts.append("## Not covered here\n\n" + ", ".join(f"`train {m}`" for m in missing)
                     + " have no learning benchmark section yet (issue 28).")
    path.write_text("\n\n".join(parts) + "\n")


def run_lsd(out: Path, target: Path, quick: bool) -> str:
    """The LSD check: the VAE, then three runs (two seeds and the pose-dropped ablation; one in quick mode)."""
    from tests.support.realdata import PEOPLE

    started = time.perf_counter()
    # --quick is a wiring check within a developer's 5 minutes: the 4 photos without their mirror images,
    # the default-suite test's scale (tests/bench/test_learning.py) with a little more training.
    photos = annotate_photos(PEOPLE, mirror=not quick)
    shards = write_shard(photos, out / "shards")
    steps, vae_steps, sample_steps = (300, 100, 20) if quick else (800, 300, 25)
    cfg = bench_config(steps, 0, steps, len(photos))
    batch = fixed_batch(shards, cfg, len(photos))

    vae_dir = out / "vae"
    vae_psnr = pretrain_vae(cfg, batch, vae_dir, vae_steps, seed=0)
    plan = {"seed0": (0, []), "seed1": (1, []), "no_pose": (0, ["objective.pose_dropout=1.0"])}
    if quick:
        plan = {"seed0": plan["seed0"]}
    # One process per run: the runs are independent, and on a shared machine each gets its own CPU share.
    with ProcessPoolExecutor(len(plan), mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {name: pool.submit(run_and_score, shards, batch, out / f"lsd_{name}", steps, seed, vae_dir, extra,
                                     sample_steps) for name, (seed, extra) in plan.items()}
        runs = {name: future.result() for name, future in futures.items()}
    for name, run in runs.items():
        run["vae_psnr"] = vae_psnr
        print(name, json.dumps({k: v for k, v in run["mem"].items() if not k.startswith("_")}), flush=True)

    save_curve(runs["seed0"]["val"], target / "learning_lsd_loss.png")
    save_grid(batch, runs["seed0"]["mem"]["_samples"], target / "learning_lsd_grid.png")
    (out / "learning.json").write_text(json.dumps(
        {name: {"val": r["val"], "mem": {k: v for k, v in r["mem"].items() if not k.startswith("_")},
                "vae_psnr": r["vae_psnr"], "train_s": r["train_s"]} for name, r in runs.items()}, indent=1))
    return write_report(runs, photos, steps, vae_steps, sample_steps, quick, time.perf_counter() - started)


def write_report(runs, photos, steps, vae_steps, sample_steps, quick, wall_s) -> str:
    """LSD's section of bench/LEARNING.md: what ran, on what, and every figure beside its trivial baseline and
    its target."""
    from common import load_avg, machine  # noqa: PLC0415 (bench-local helper)

    first = runs["seed0"]
    ratios = loss_ratios(first["val"])
    mem = first["mem"]
    lines = [
        "# Does `train lsd` learn? (bench/learning.py" + (" --quick" if quick else "") + ")",
        "",
        f"Written by `bench/learning.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{wall_s / 60:.1f} min wall on {machine()['cores']} CPUs, load average "
        f"{load_avg()} at the end (the machine is shared, so times are not speeds).",
        "",
        "## What ran",
        f"- Data: {len(photos)} samples = the kit's showable people photos ({', '.join(SHOWABLE_PHOTOS)}; "
        "CC BY 2.0 / public domain / CC0 / public domain)"
        + ("" if len(photos) == len(SHOWABLE_PHOTOS) else " and their mirror images")
        + ", cropped square around the person "
        f"at {SHARD_SIZE}² and written as one contract shard. Pose and person mask: the project's MediaPipe "
        "backends on the real photos. Depth and normals: DERIVED structure maps (flat far background; the person "
        "nearer the lower their feet stand, rounded by the mask's distance transform; normals from that depth's "
        "gradient), because the demo's depth/normal annotators have random weights. One caption for all samples, so "
        "only the pose tells them apart.",
        f"- VAE: the tiny preset's random VAE is first trained for {vae_steps} full-batch steps on the same images "
        "(RGB, depth, normal, pose maps) and saved as the run's frozen VAE, which `train_lsd` then loads as it "
        "loads any random-VAE run's. Measuring only in latent space would leave the decoder (and so the pixel-space "
        "memorisation figures) meaningless; reconstruction PSNR of that VAE on these images: "
        f"{first['vae_psnr']:.1f} dB.",
        f"- UNet: `train_lsd` with `presets/train_lsd_tiny.yaml` from scratch, {steps} steps, batch = all samples, "
        "32² images, lr 1e-3, no text/pose dropout, no EMA. Overrides: "
        "`data.resolution=32 data.crop_scale=[1,1] objective.text_dropout=0 objective.pose_dropout=0 "
        "optim.learning_rate=1e-3 ema.enabled=false`.",
        f"- Sampling: `sample_lsd` (DDIM, trailing timesteps, zero-terminal-SNR v-prediction), {sample_steps} steps, "
        "guidance 1 (every caption is the same, so text guidance has nothing to add), fixed seed.",
        "",
        "## Figures (seed 0)",
        "",
        "| check | measured | trivial baseline | target | met |",
        "|---|---|---|---|---|",
    ]

    def row(check, measured, baseline, target, met):
        lines.append(f"| {check} | {measured} | {baseline} | {target} | {'yes' if met else '**no**'} |")

    zero, constant = first["val"][0], first["val"][1]
    for name in ("rgb", "depth", "normal"):
        row(f"validation v-loss, {name}", f"{first['val'][-1][f'loss_{name}']:.4f}",
            f"{constant[f'loss_{name}']:.4f} (best constant; E[v²] {zero[f'loss_{name}']:.4f})", "≤ 50% of baseline",
            ratios[name] <= 0.5)
    row("each sample nearest its own training image (PSNR)", f"{mem['nearest_own']:.0%}", "-", "100%",
        mem["nearest_own"] == 1.0)
    row("RGB PSNR to own image", f"{mem['psnr_own']:.2f} dB", f"{mem['psnr_mean_image']:.2f} dB (mean image)",
        "≥ baseline + 5 dB", mem["psnr_gain_db"] >= 5)
    row("depth Spearman to its map", f"{mem['depth_rank']:.3f}", f"{mem['gradient_rank']:.3f} (top-to-bottom ramp)",
        "≥ baseline + 0.2", mem["depth_rank"] - mem["gradient_rank"] >= 0.2)
    row("normal mean angular error", f"{mem['normal_angle_deg']:.1f}°",
        f"{mem['normal_angle_constant_deg']:.1f}° (mean normal)", "below baseline",
        mem["normal_angle_deg"] < mem["normal_angle_constant_deg"])
    row("foreground IoU with the condition's person: right pose", f"{mem['iou_right_pose']:.3f}",
        f"{mem['iou_shuffled_pose_vs_own_mask']:.3f} (shuffled pose)", "≥ baseline + 0.2", mem["iou_gap"] >= 0.2)
    lines += [
        "",
        "Validation loss: every checkpoint, on all training samples with fixed noise and fixed timesteps "
        "(generator seed 1234) through the trainer's own `LSDObjective.loss`. Baselines through the same objective on "
        "the same draw: a model that outputs 0 (loss E[v²]) and the best constant per modality and latent channel "
        "(E[v], exact: the loss is quadratic in the constant). "
        "Curve: `learning_lsd_loss.png`. Grid: `learning_lsd_grid.png` (columns: condition pose, generated RGB, depth, "
        "normal, real image).",
        "",
        "Conditioning measure: the foreground is the generated depth above the threshold between the maps' "
        f"background and the nearest a person can be ({FOREGROUND_THRESHOLD}); its IoU with the condition person's "
        "mask (from the derived depth) with the right pose vs with another sample's pose (each sample gets the pose "
        "two places on, so never its own mirror twin). At 32² the project's pose stage finds no reliable pose in a "
        "sample, while the foreground is a direct, size-independent read of where the model put the person. With "
        f"the shuffled pose the sample's IoU with *that* pose's person is {mem['iou_shuffled_pose_vs_its_mask']:.3f}: "
        "the output follows the pose it is given.",
        "",
        "| step | " + " | ".join(f"loss_{m}" for m in ("rgb", "depth", "normal")) + " |",
        "|---|---|---|---|",
    ]
    for r in first["val"]:
        losses = " | ".join(f"{r[f'loss_{m}']:.4f}" for m in ("rgb", "depth", "normal"))
        lines.append(f"| {r['step']} | {losses} |")
    if len(runs) > 1:
        lines += ["", "## Ablation that must hurt: the pose condition dropped", "",
                  "Same data, steps and seed as seed 0, with `objective.pose_dropout=1.0` (an existing config key: "
                  "the pose latent is zeroed at every step). With one caption for all samples the model then cannot "
                  "tell them apart. Spread = |seed 0 − seed 1| of the correct wiring.", "",
                  "| figure | seed 0 | seed 1 | spread | pose dropped | worse by more than the spread |",
                  "|---|---|---|---|---|---|"]
        for key, label in (("psnr_gain_db", "PSNR gain over mean image (dB)"), ("nearest_own", "nearest own"),
                           ("iou_gap", "IoU right − shuffled pose"), ("depth_rank", "depth Spearman")):
            a, b, c = runs["seed0"]["mem"][key], runs["seed1"]["mem"][key], runs["no_pose"]["mem"][key]
            spread = abs(a - b)
            lines.append(f"| {label} | {a:.3f} | {b:.3f} | {spread:.3f} | {c:.3f} | "
                         f"{'yes' if min(a, b) - c > spread else '**no**'} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
