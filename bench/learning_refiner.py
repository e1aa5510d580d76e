"""Does `train refiner` learn? The Structure-Guided Refiner (a ControlNet copy of a frozen SDXL-shaped base's
encoder, steered by pose, depth and normal maps) trained on the LSD check's real photos (issue 28, items 1-3, 5).

What is real, what is derived, what is trained here:
- data: learning.py's photos, MediaPipe pose and mask, and DERIVED depth/normal maps, in one contract shard at
  64² (the tiny preset's resolution);
- base: the tiny preset's SDXL-shaped base is random, so this benchmark first trains it (issue 28 item 5
  allows it): its VAE on the photos, then its UNet on SDXL's own epsilon objective with the one caption, i.e.
  an unconditional model of these photos that knows what they look like but not which one a map asks for.
  It is saved in SDXL's folder layout and the refiner run loads it with `model.base=<folder>`, the real
  preset's route;
- refiner: `train_refiner` (the CLI's function) with `presets/train_refiner_tiny.yaml` and the base frozen, as
  in real training; the benchmark keeps the base the trainer loaded and checks afterwards that not one of its
  weights changed. Samples come from `sample_refiner` (DDIM on SDXL's schedule, the project's sampler).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from unittest import mock

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import learning  # bench-local: the LSD check's data, maps and scores
from humanverse.train.common.config import load_config
from humanverse.train.refiner.config import RefinerConfig

CONDITIONS = ("depth", "normal", "pose")  # the StructureControlNet's stacking order (names sorted)
SEGMENTER_SIZE = 256  # samples are upsampled to the segmenter's own input size before segmenting
# conditioning_scale: the sampler's multiplier of the ControlNet residuals (`humanverse sample
# --conditioning-scale`); why 2 and not the default 1 is measured in the report (write_section).
# vae_steps: the VAE bounds how closely a sample's outline can follow its maps (measured in the report).
QUICK = dict(vae_steps=120, base_steps=250, steps=300, sample_steps=10, conditioning_scale=2.0)
FULL = dict(vae_steps=1500, base_steps=1200, steps=1200, sample_steps=25, conditioning_scale=2.0)


def refiner_config(steps: int, seed: int, checkpoint_every: int, batch_size: int, base: Path | None = None,
                   extra: list[str] = ()) -> RefinerConfig:
    """The tiny preset with what a memorisation run needs: whole images, a full-set batch, no caption or map
    dropout (as in the LSD check: dropout trains sampling with any subset of the maps, eight subsets per
    sample, which a few hundred CPU steps cannot also learn; with it at the preset's 50% a 600-step trial
    run's samples did not follow their maps at all)."""
    source = [f"model.base={base}", "model.random_base=null"] if base is not None else []
    return load_config(RefinerConfig, preset="refiner_tiny", overrides=[
        *source, f"data.batch_size={batch_size}", "data.crop_scale=[1, 1]", "data.shuffle_buffer=0",
        "objective.text_dropout=0", "objective.condition_dropout=0", "optim.learning_rate=1e-3", "optim.weight_decay=0", f"loop.max_steps={steps}",
        f"loop.checkpointing_steps={checkpoint_every}", f"loop.seed={seed}", "loop.log_every=50",
        "ema.enabled=false", *extra])


def pretrain_base(cfg: RefinerConfig, batch: dict, folder: Path, vae_steps: int, unet_steps: int,
                  seed: int = 0) -> dict:
    """Write the preset's random SDXL-shaped base to `folder`, then train its VAE and UNet on the batch's images
    (SDXL's epsilon objective, the batch's one caption) and save both back. Returns the VAE's reconstruction
    PSNR and the UNet's last training losses."""
    from humanverse.train.common.noise_schedule import (
        SDXL_SCHEDULE_CONFIG,
        noise_all_at_one_timestep,
        training_scheduler,
    )
    from humanverse.train.common.vae import encode_images
    from humanverse.train.refiner.components import encode_prompt, load_sdxl_base, micro_conditioning
    from humanverse.train.refiner.sdxl_random_base import write_random_sdxl_base

    shutil.rmtree(folder, ignore_errors=True)
    write_random_sdxl_base(cfg.model.random_base, folder, seed=seed)
    base = load_sdxl_base(folder)
    torch.manual_seed(seed)

    vae = base.vae.train().requires_grad_(True)
    vae_psnr = learning.fit_vae(vae, batch["image"], vae_steps)
    vae.eval().requires_grad_(False)
    with torch.no_grad():  # SD's recipe for the factor: unit variance of the scaled latents
        std = vae.encode(batch["image"]).latent_dist.mode().std().item()
    vae.register_to_config(scaling_factor=1.0 / std)
    vae.save_pretrained(folder / "vae")

    unet = base.unet.train().requires_grad_(True)
    scheduler = training_scheduler(SDXL_SCHEDULE_CONFIG)
    context, pooled = encode_prompt(base, list(batch["caption"]), "cpu")
    added = {"text_embeds": pooled,
             "time_ids": micro_conditioning(batch["original_size"], batch["crop_top_left"], cfg.data.resolution)}
    optimizer = torch.optim.Adam(unet.parameters(), lr=1e-3)
    losses = []
    for _ in range(unet_steps):
        with torch.no_grad():
            latents = encode_images(vae, batch["image"])
        noised = noise_all_at_one_timestep(scheduler, {"rgb": latents})
        predicted = unet(noised.noisy["rgb"], noised.timesteps, encoder_hidden_states=context,
                         added_cond_kwargs=added).sample
        loss = F.mse_loss(predicted, noised.noise["rgb"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    unet.save_pretrained(folder / "unet")
    return {"vae_psnr": vae_psnr, "latent_std": std, "base_loss_last50": float(np.mean(losses[-50:]))}


def weights_digest(module: torch.nn.Module) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def train_frozen_base_run(shards: list[str], cfg: RefinerConfig, run_dir: Path) -> dict:
    """`train_refiner` as the CLI runs it, keeping the base the trainer loads: its UNet, VAE and text encoders
    are digested when loaded and again after the last step (they must be equal), and the ControlNet's copied
    encoder is compared with the base's (it must have moved)."""
    from humanverse.train.refiner import train as refiner_train

    loaded = {}

    def keep(folder):
        base = original(folder)
        loaded["base"] = base
        loaded["before"] = {part: weights_digest(getattr(base, part))
                            for part in ("unet", "vae", "text_encoder", "text_encoder_2")}
        return base

    original = refiner_train.load_sdxl_base
    shutil.rmtree(run_dir, ignore_errors=True)
    started = time.perf_counter()
    with mock.patch.object(refiner_train, "load_sdxl_base", keep):
        refiner_train.train_refiner(cfg, shards, run_dir)
    train_s = time.perf_counter() - started
    base = loaded["base"]
    after = {part: weights_digest(getattr(base, part)) for part in loaded["before"]}
    trainable = sum(p.requires_grad for part in loaded["before"] for p in getattr(base, part).parameters())
    return {"train_s": train_s, "base_unchanged": after == loaded["before"],
            "base_parts_unchanged": {part: after[part] == loaded["before"][part] for part in after},
            "base_trainable_tensors": trainable}


def encoder_moved(run_dir: Path) -> float:
    """Relative change of the ControlNet's copied encoder weights from the base's (conv_in, down and mid
    blocks): zero would mean the trainable copy never trained."""
    from humanverse.train.refiner.sample import load_refiner

    model = load_refiner(run_dir, use_ema=False)
    unet = model.base.unet.state_dict()
    moved = total = 0.0
    for name, tensor in model.controlnet.controlnet.state_dict().items():
        if name in unet and unet[name].shape == tensor.shape and tensor.is_floating_point():
            moved += (tensor - unet[name]).pow(2).sum().item()
            total += unet[name].pow(2).sum().item()
    return (moved / total) ** 0.5


class ConstantUNet(torch.nn.Module):
    """Stands in for the base UNet: predicts one constant per latent channel whatever the input (and ignores
    the ControlNet's residuals)."""

    def __init__(self, channels: int = 4):
        super().__init__()
        self.value = torch.nn.Parameter(torch.zeros(1, channels, 1, 1))

    @property
    def dtype(self) -> torch.dtype:
        return self.value.dtype

    def forward(self, sample, timestep, **_):
        return (self.value.expand_as(sample),)


def evaluation_config(cfg: RefinerConfig) -> RefinerConfig:
    """Validation sees every condition and the caption (no dropout), at uniform timesteps whatever the run trained
    with (the fixed draw stays the same set for every setting)."""
    from humanverse.train.common.config import TimestepSamplingConfig

    objective = cfg.objective.model_copy(update={"text_dropout": 0.0, "condition_dropout": 0.0,
                                                 "timesteps": TimestepSamplingConfig()})
    return cfg.model_copy(update={"objective": objective})


def validation_losses(run_dir: Path, cfg: RefinerConfig, batch: dict) -> list[dict]:
    """Per checkpoint, the epsilon loss on the fixed set with fixed noise and timesteps (seed 1234) through the
    trainer's own RefinerObjective; first the best constant (and zero) predictor and the frozen base alone
    (a fresh ControlNet adds exactly zero) on the same draw; the last checkpoint also with each SHUFFLE_TESTS group
    of maps taken from another sample."""
    from humanverse.train.refiner.components import build_controlnet
    from humanverse.train.refiner.sample import load_refiner
    from humanverse.train.refiner.train import RefinerObjective

    cfg = evaluation_config(cfg)

    def loss_of(controlnet, base, maps=None):  # maps: replacements for the batch's own
        return RefinerObjective(controlnet, base, cfg, torch.device("cpu")).loss(
            {**batch, **(maps or {})}, generator=torch.Generator().manual_seed(1234))[0]

    checkpoints = sorted(run_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1]))
    first = load_refiner(checkpoints[0], use_ema=False)
    constant = ConstantUNet(first.base.unet.config.in_channels)
    with_constant = dataclasses.replace(first.base, unet=constant)
    zero = loss_of(first.controlnet, with_constant)
    zero.backward()
    with torch.no_grad():  # d loss / d c_k = (2 / C) (c_k - E[eps_k]); at c = 0 that gives E[eps_k]
        constant.value.copy_(-constant.value.grad * constant.value.shape[1] / 2)
        rows = [{"step": "zero (E[ε²])", "loss": zero.item()},
                {"step": "best constant", "loss": loss_of(first.controlnet, with_constant).item()},
                {"step": "0 (frozen base alone)", "loss": loss_of(build_controlnet(cfg, first.base), first.base).item()}]
        for checkpoint in checkpoints:
            model = load_refiner(checkpoint, use_ema=False)
            rows.append({"step": int(checkpoint.name.split("-")[1]), "loss": loss_of(model.controlnet, model.base).item()})
        # the last checkpoint on the same draw with each test's maps taken from another sample: does each group of
        # maps reach the denoiser?
        shuffle = learning.derangement(len(batch["key"]))
        for name, shuffled in SHUFFLE_TESTS.items():
            rows[-1][f"loss, {name} shuffled"] = loss_of(model.controlnet, model.base,
                                                         condition_maps(batch, shuffle, shuffled)).item()
    return rows


def segment(images: torch.Tensor) -> np.ndarray:
    """Person masks (B, H, W) bool of images (B, 3, H, W) in [0, 1] by the project's MediaPipe mask backend,
    run at its own input size and resized back."""
    from humanverse.models.mask.mask_mediapipe import SelfieSegmentation

    size = images.shape[-1]
    arrays = [np.asarray(Image.fromarray((im.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)).resize(
        (SEGMENTER_SIZE, SEGMENTER_SIZE), Image.BICUBIC)) for im in images.clamp(0, 1)]
    model = SelfieSegmentation()
    try:
        masks = model(arrays)
    finally:
        model.close()
    return np.stack([np.asarray(Image.fromarray(m.astype(np.float32)).resize((size, size), Image.BILINEAR)) > 0.5
                     for m in masks])


# The conditioning tests: name -> the maps taken from another sample (the others stay right).
POSE_ALONE = "pose (depth + normal right)"
SHUFFLE_TESTS = {
    "all maps": CONDITIONS,
    "depth + normal (pose right)": ("depth", "normal"),
    POSE_ALONE: ("pose",),
}


def condition_maps(batch: dict, order: list[int] | None = None, names=CONDITIONS) -> dict[str, torch.Tensor]:
    """The batch's maps named in `names`: each row's own, or row order[i]'s."""
    rows = slice(None) if order is None else order
    return {name: batch[name][rows] for name in names}


def memorisation(run_dir: Path, batch: dict, steps: int, seed: int = 0, conditioning_scale: float = 1.0) -> dict:
    """DDIM samples with the training caption and maps (guidance 1: there is one caption) scored against the
    training images and trivial baselines; then with shuffled maps (all together, or one group while the other
    stays right), scored by the MediaPipe person mask of the sample against the condition person's mask.
    `conditioning_scale` multiplies the ControlNet's residuals (`humanverse sample --conditioning-scale`)."""
    from humanverse.train.refiner.components import build_controlnet
    from humanverse.train.refiner.sample import RefinerModel, load_refiner, sample_refiner

    model = load_refiner(run_dir, use_ema=False)
    alone = RefinerModel(build_controlnet(model.cfg, model.base), model.base, model.cfg, model.checkpoint)
    n = len(batch["key"])
    prompts = list(batch["caption"])

    def draw(refiner, maps):
        return sample_refiner(refiner, prompts, maps, num_inference_steps=steps, guidance_scale=1.0,
                              conditioning_scale=conditioning_scale, generator=torch.Generator().manual_seed(seed))

    real = batch["image"] / 2 + 0.5
    mean_image = learning.psnr(real.mean(0, keepdim=True).expand_as(real), real)

    def scores(samples):
        table = torch.stack([learning.psnr(samples[i:i + 1].expand_as(real), real) for i in range(n)])
        own = table.diagonal()
        return {"nearest_own": float((table.argmax(1) == torch.arange(n)).float().mean()),
                "psnr_own": own.mean().item(), "psnr_gain_db": (own - mean_image).mean().item()}

    shuffle = learning.derangement(n)
    masks = batch["depth"][:, 0].numpy() > learning.FOREGROUND_THRESHOLD
    samples = {"right": draw(model, condition_maps(batch)), "base alone": draw(alone, condition_maps(batch))}
    for name, shuffled in SHUFFLE_TESTS.items():
        samples[f"{name}: shuffled"] = draw(model, {**condition_maps(batch), **condition_maps(batch, shuffle, shuffled)})

    segmented = {name: segment(images) for name, images in samples.items()}
    segmenter_ceiling = float(np.mean([learning.iou(m, t) for m, t in zip(segment(real), masks)]))

    def mean_iou(name, targets):
        return float(np.mean([learning.iou(segmented[name][i], masks[targets[i]]) for i in range(n)]))

    own, other = list(range(n)), shuffle
    conditioning = {}
    for name in SHUFFLE_TESTS:
        conditioning[name] = {"right": mean_iou("right", own), "shuffled_vs_own": mean_iou(f"{name}: shuffled", own),
                              "shuffled_vs_its_condition": mean_iou(f"{name}: shuffled", other)}
    return {
        **scores(samples["right"]),
        "base_alone": scores(samples["base alone"]),
        "psnr_mean_image": mean_image.mean().item(),
        "segmenter_on_real": segmenter_ceiling,
        "conditioning": conditioning,
        "_samples": samples,
    }


def save_curve(val: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    constant, base_alone, rows = val[1], val[2], val[3:]
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot([0] + [r["step"] for r in rows], [base_alone["loss"]] + [r["loss"] for r in rows], "o-", color="C0",
            label="refiner (step 0: frozen base alone)")
    ax.axhline(constant["loss"], color="C0", ls="--", lw=0.8, label="best constant predictor")
    ax.axhline(constant["loss"] / 2, color="C3", ls=":", lw=0.8, label="target: half of it")
    ax.set_xlabel("ControlNet step")
    ax.set_ylabel("ε-loss, fixed noise + timesteps")
    ax.set_yscale("log")  # the base alone is already far below the constant; the ControlNet's fall is below it
    ax.set_title("refiner validation loss", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def save_grid(batch: dict, samples: dict, path: Path) -> None:
    """Rows: the samples; columns: condition pose, depth, normal, generated, frozen base alone (same noise),
    the real image. Quantised to 256 colours to keep the file small."""
    def tile(t):  # (1|3, H, W) in [0, 1]
        return (t.clamp(0, 1).expand(3, -1, -1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)

    rows = [np.concatenate([tile(batch["pose"][i]), tile(batch["depth"][i]), tile(batch["normal"][i] / 2 + 0.5),
                            tile(samples["right"][i]), tile(samples["base alone"][i]),
                            tile(batch["image"][i] / 2 + 0.5)], axis=1) for i in range(len(batch["key"]))]
    grid = Image.fromarray(np.concatenate(rows, axis=0))
    grid = grid.resize((grid.width * 2, grid.height * 2), Image.NEAREST).quantize(256)
    grid.save(path, optimize=True)


def run_refiner(out: Path, target: Path, quick: bool) -> str:
    """The refiner's check (learning.py --methods refiner): pretrain the base, train the ControlNet with the base
    frozen, score it; writes the curve and grid PNGs to `target` and returns the markdown section."""
    from tests.support.realdata import PEOPLE

    started = time.perf_counter()
    plan = QUICK if quick else FULL
    out = out / "refiner"
    photos = learning.annotate_photos(PEOPLE, mirror=not quick)
    shards = learning.write_shard(photos, out / "shards")
    n, steps = len(photos), plan["steps"]
    cfg = refiner_config(steps, 0, max(1, steps // 4), n)
    batch = learning.fixed_batch(shards, cfg, n)
    base = pretrain_base(cfg, batch, out / "base", plan["vae_steps"], plan["base_steps"])
    cfg = refiner_config(steps, 0, max(1, steps // 4), n, base=out / "base")
    run = train_frozen_base_run(shards, cfg, out / "run")
    run["encoder_moved"] = encoder_moved(out / "run")
    run["val"] = validation_losses(out / "run", cfg, batch)
    mem = memorisation(out / "run", batch, plan["sample_steps"], conditioning_scale=plan["conditioning_scale"])
    save_curve(run["val"], target / "learning_refiner_loss.png")
    save_grid(batch, mem["_samples"], target / "learning_refiner_grid.png")
    figures = {"base": base, "run": run, "mem": {k: v for k, v in mem.items() if not k.startswith("_")}}
    (out / "refiner.json").write_text(json.dumps(figures, indent=1))
    return write_section(figures, photos, plan, quick, time.perf_counter() - started)


def conditioning_gap(test: dict) -> float:
    return test["right"] - test["shuffled_vs_own"]


def pose_only_text(test: dict, shuffled_loss: float, right_loss: float) -> str:
    """Why the pose-only row can miss while the pose is wired: the dense maps it contradicts fix the outline."""
    if conditioning_gap(test) >= 0.2:
        return ""
    return (" Pose alone (its row misses the target): with the depth and normal right and only the skeleton taken "
            "from another sample, the sample keeps the person of the depth and normal (IoU "
            f"{test['shuffled_vs_own']:.3f} with it, {test['shuffled_vs_its_condition']:.3f} with the skeleton's "
            "person). The depth and normal maps give the outline pixel by pixel and the skeleton only its joints, "
            "and in training they always agree, as in HyperHuman's refiner, whose three maps come from one stage-1 "
            "sample: the person-mask IoU measures the outline, which the dense maps decide. The skeleton still "
            f"reaches the denoiser: shuffled alone it raises the validation ε-loss from {right_loss:.4f} to "
            f"{shuffled_loss:.4f} (rows above).")


def write_section(figures: dict, photos: list, plan: dict, quick: bool, wall_s: float) -> str:
    """The refiner's section of bench/LEARNING.md: what ran, and each figure beside its trivial baseline and
    its target."""
    from common import load_avg, machine  # noqa: PLC0415 (bench-local helper)

    base, run, mem = figures["base"], figures["run"], figures["mem"]
    constant, base_alone, last = run["val"][1]["loss"], run["val"][2]["loss"], run["val"][-1]["loss"]
    lines = [
        "# Does `train refiner` learn? (bench/learning.py --methods refiner" + (" --quick" if quick else "") + ")",
        "",
        f"Written by `bench/learning_refiner.py` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; "
        f"{wall_s / 60:.1f} min wall on {machine()['cores']} CPUs, one torch thread, load average {load_avg()} at "
        "the end (the machine is shared, so times are not speeds).",
        "",
        "## What ran",
        f"- Data: {len(photos)} samples, the LSD check's photos"
        + (" (without the mirror images)" if quick else " and their mirror images")
        + f", at {learning.SHARD_SIZE}² (the tiny refiner's resolution; latents 8²): MediaPipe pose and mask, DERIVED "
        "depth and normal maps (see the LSD section), one caption for all.",
        f"- Base, trained here and then frozen: the tiny preset's random SDXL-shaped base (`model.random_base`, written "
        f"in SDXL's folder layout); its VAE trained for {plan['vae_steps']} full-batch steps on the photos "
        f"(reconstruction PSNR {base['vae_psnr']:.1f} dB; `scaling_factor` set to 1/std of the latents, SD's recipe), "
        f"then its UNet for {plan['base_steps']} steps on SDXL's ε objective with the one caption and no maps (last "
        f"50 steps' loss {base['base_loss_last50']:.3f}): it knows what these photos look like, not which one a map "
        "asks for. The text encoders stay random (one caption carries nothing). The refiner run loads this folder "
        "with `model.base=<folder> model.random_base=null`, the route the real preset takes to SDXL.",
        f"- ControlNet: `train_refiner` with `presets/train_refiner_tiny.yaml`, {plan['steps']} steps, batch = all "
        "samples, lr 1e-3, no caption or map dropout (the preset has HyperHuman's 50%: see below), no EMA. Overrides: "
        "`data.crop_scale=[1,1] objective.text_dropout=0 objective.condition_dropout=0 optim.learning_rate=1e-3 "
        f"optim.weight_decay=0 ema.enabled=false`. Training took {run['train_s']:.0f} s.",
        f"- Sampling: `sample_refiner` (DDIM on SDXL's ε schedule), {plan['sample_steps']} steps, guidance 1 (one "
        f"caption), conditioning scale {plan['conditioning_scale']:g} (the multiplier of the ControlNet's residuals, "
        "`humanverse sample --conditioning-scale`, default 1: see below), fixed seed: the same starting noise for "
        "every variant below.",
        "",
        "## Figures",
        "",
        "| check | measured | trivial baseline | target | met |",
        "|---|---|---|---|---|",
    ]

    def row(check, measured, baseline, target, met):
        lines.append(f"| {check} | {measured} | {baseline} | {target} | {'yes' if met else '**no**'} |")

    row("validation ε-loss", f"{last:.4f}", f"{constant:.4f} (best constant; E[ε²] {run['val'][0]['loss']:.4f})",
        "≤ 50% of baseline", last <= 0.5 * constant)
    row("validation ε-loss vs the frozen base alone", f"{last:.4f}", f"{base_alone:.4f} (base, no ControlNet)",
        "below baseline", last < base_alone)
    row("each sample nearest its own training image (PSNR)", f"{mem['nearest_own']:.0%}",
        f"{mem['base_alone']['nearest_own']:.0%} (base alone, same noise)", "100%", mem["nearest_own"] == 1.0)
    row("RGB PSNR to own image", f"{mem['psnr_own']:.2f} dB", f"{mem['psnr_mean_image']:.2f} dB (mean image); "
        f"base alone {mem['base_alone']['psnr_own']:.2f} dB", "≥ baseline + 5 dB", mem["psnr_gain_db"] >= 5)
    for name, test in mem["conditioning"].items():
        row(f"person-mask IoU, {name}: right vs shuffled", f"{test['right']:.3f}",
            f"{test['shuffled_vs_own']:.3f} (shuffled)", "≥ baseline + 0.2", conditioning_gap(test) >= 0.2)
    for name in SHUFFLE_TESTS:
        shuffled_loss = run["val"][-1][f"loss, {name} shuffled"]
        row(f"validation ε-loss, {name} shuffled", f"{shuffled_loss:.4f}", f"{last:.4f} (right maps)",
            "above baseline", shuffled_loss > last)
    row("base weights unchanged by training (UNet, VAE, both text encoders)",
        "yes" if run["base_unchanged"] else "no", "-", "identical SHA-256", run["base_unchanged"])
    lines += [
        "",
        "Validation loss: every checkpoint, all training samples with all maps, fixed noise and timesteps (generator "
        "seed 1234) through the trainer's own `RefinerObjective.loss`. Baselines on the same draw: a UNet that "
        "outputs 0 (loss E[ε²]), the best constant per latent channel (E[ε], exact: the loss is quadratic in it), and "
        "the frozen base alone (a fresh ControlNet, whose zero convolutions add exactly nothing). The base alone "
        "already beats the constant, since it has learnt these photos; the ControlNet's share is the fall below it. "
        "Curve: `learning_refiner_loss.png`. Grid: `learning_refiner_grid.png` (columns: condition pose, depth, "
        "normal, generated, the frozen base alone from the same noise, the real image).",
        "",
        "Frozen base: the trainer's loaded base (UNet, VAE, both text encoders) is digested (SHA-256 over every "
        f"tensor) when `train_refiner` loads it and again after its last step: "
        f"{'identical' if run['base_unchanged'] else 'CHANGED: ' + str(run['base_parts_unchanged'])}; base tensors "
        f"with requires_grad: {run['base_trainable_tensors']}. The ControlNet's encoder, copied from the base's at "
        f"step 0, moved by {run['encoder_moved']:.3f} (relative L2): the trainable copy did train.",
        "",
        "Conditioning measure: the project's MediaPipe person segmenter (`models/mask`) on each sample (upsampled to "
        f"{SEGMENTER_SIZE}², its input size), IoU with the condition person's mask (the derived depth above "
        f"{learning.FOREGROUND_THRESHOLD}), with the right maps vs with another sample's maps (the one two places on, "
        "so never a sample's own mirror twin), from the same noise. The refiner outputs RGB only, so unlike LSD there is no "
        "generated depth to threshold; the person segmenter reads where the person is from the pixels, and at 64² it "
        f"still works: on the real training images its IoU with these masks is {mem['segmenter_on_real']:.3f} (the "
        "measure's ceiling). When only one group of maps is shuffled, the maps disagree; the last column says which "
        "person the sample then draws." + pose_only_text(mem["conditioning"][POSE_ALONE],
                                                          run["val"][-1][f"loss, {POSE_ALONE} shuffled"], last),
        "",
        "Map dropout: with the preset's 50% per map (HyperHuman's, which teaches sampling from any subset of the "
        "maps) a 600-step trial run while this benchmark was built (not rerun by it; same base, lr 1e-3) lowered the validation loss as much as this run does "
        "(0.052 to 0.037) but its samples did not follow their maps at all (nearest own 0%, person-mask IoU gap "
        "-0.004); without dropout the same 600 steps gave 62% nearest own and a 0.12 gap. So this benchmark trains "
        "without it, as the LSD check does, and tests the maps together or one group against the other.",
        "",
        "Conditioning scale and base length, trials while this benchmark was tuned (not rerun by it; same data, "
        "ControlNet settings and seeds, which are deterministic: a rerun gives the same validation losses to 4 "
        "digits). The frozen base has learnt all these photos unconditionally, and at scale 1 its noise-driven "
        "choice of photo still wins for some samples. With the base's UNet trained 600 steps (the earlier setting), "
        "the 1200-step ControlNet sampled at scale 1 / 1.5 / 2 / 2.5 gave nearest own 75% / 100% / 100% / 100%, "
        "PSNR gain over the mean image +5.9 / +7.4 / +6.9 / +5.8 dB, all-maps IoU gap +0.167 / +0.158 / +0.167 / "
        "+0.163 (50 or 100 DDIM steps instead of 25: within 0.01). With a 1200-step base (this run's UNet length) at scale "
        "1.5 / 2: 100% / 100%, +9.3 / +9.3 dB, +0.168 / +0.184. A weaker base (250 UNet steps; 600 ControlNet "
        "steps) drew blurrier people (IoU with the right maps 0.47-0.57 against 0.55-0.63 with the 600-step base), "
        "lr 2e-3 with 100 warm-up steps was no better than 1e-3 (all-maps gap +0.150 at scale 2), and twice the "
        "ControlNet steps (2400, this base, scale 2) gave +0.189 with the validation loss flat after 1200. All of "
        "these had the VAE trained 300 steps (22.8 dB). The scale decides which photo a sample draws; the IoU gap "
        "needs the person's outline drawn closely, and it is bounded by the IoU with the right maps, because the "
        "shuffled partner's real mask already overlaps the own person's by 0.43.",
        "",
        "VAE length: the bound was the VAE. The segmenter on the 300-step VAE's own reconstructions of the real "
        "images (encode, decode, no diffusion) gives IoU 0.664 with the masks, and that run's right-map samples "
        "reached 0.655: the refiner drew what the VAE can draw. Trained longer from the same initialisation "
        "(measured while tuning, not rerun here), the VAE reconstructs at 600 / 900 / 1200 / 1500 steps with "
        "25.2 / 26.7 / 27.8 / 28.4 dB and reconstruction IoU 0.713 / 0.755 / 0.774 / 0.807 (real images: 0.881). "
        f"This run trains it {plan['vae_steps']} steps, about 2 min more. The ε-losses are higher with this VAE "
        "(the 300-step VAE's run ended at 0.028 with the base alone at 0.053; presumably its latents carry detail "
        "the short VAE blurred away, which is harder to predict from noise), so the loss figures "
        "are not comparable across VAEs; the memorisation and conditioning figures are, since they are scored in "
        "pixels.",
        "",
        "Training timesteps: `objective.timesteps` draws them uniformly by default (SDXL's own training); "
        "`scheme: logit_normal` with `logit_mean` > 0 trains the high-noise steps, where a ControlNet's layout "
        "is decided, more often (SD3's density). A trial with `logit_mean=1` (84% of draws at t ≥ 500) on the "
        "300-step VAE, same settings otherwise, gave at scale 1.5 / 2 / 2.5: nearest own 100%, PSNR gain "
        "+10.6 / +10.1 / +9.3 dB (uniform at scale 2: +9.3), all-maps IoU gap +0.173 / +0.180 / +0.176 "
        "(uniform +0.184), depth+normal +0.159 / +0.167 / +0.156 (uniform +0.193), pose-only +0.085 / +0.129 / "
        "+0.178 (uniform +0.058). It helped the pose and the pixels, not the outline. With this run's 1500-step "
        "VAE the same trial (scale 2) gave nearest own 100%, PSNR gain +12.7 dB, all-maps gap +0.380, "
        "depth+normal +0.358, pose-only +0.007 (this run, uniform: +13.0 dB, +0.321, +0.337, +0.060). This "
        "benchmark keeps the default uniform draw, which already meets the target.",
        "",
        "| maps given | IoU, right maps | IoU with own person, shuffled | IoU with the shuffled maps' person | gap |",
        "|---|---|---|---|---|",
    ]
    for name, test in mem["conditioning"].items():
        lines.append(f"| {name} | {test['right']:.3f} | {test['shuffled_vs_own']:.3f} | "
                     f"{test['shuffled_vs_its_condition']:.3f} | {conditioning_gap(test):+.3f} |")
    lines += ["", "| step | validation ε-loss |", "|---|---|"]
    lines += [f"| {r['step']} | {r['loss']:.4f} |" for r in run["val"]]
    return "\n".join(lines) + "\n"
