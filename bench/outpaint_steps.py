"""SD-2-inpainting cost per image at full size (random weights, real compute), by its parts.

A 20-step outpaint takes minutes per image on this CPU, so the stage is timed by the parts the diffusers
pipeline is made of and summed for the configured schedule:

    seconds per image = text encoder (prompt + negative) + VAE encode + VAE decode
                        + steps x UNet forward on the classifier-free-guidance pair / images

The model is bench/bench_outpaint.py's full-size build (9-channel UNet 320/640/1280/1280, the SD VAE, the
23-layer OpenCLIP ViT-H text tower) at SD-2's native 512x512 (64x64 latent). By default the UNet is timed at
1 image (UNet batch 2): the configured batch is 4 images, more than a 15-minute benchmark has time for, and
on CPU batching gains little (2 images per UNet call: 6.6 s per image-step vs 7.3 s at 1 image, median of
3, 2026-11-23); `--batches 1 2` measures that again.

    python bench/outpaint_steps.py [--runs 3] [--steps 20] [--batches 1 2]
"""

from __future__ import annotations

import argparse
import time

import common


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20, help="the preset's outpaint.steps")
    parser.add_argument("--batches", type=int, nargs="+", default=[1])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    common.quiet_libraries()

    import torch

    from bench_outpaint import build_full_size_pipeline

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    pipe = build_full_size_pipeline()
    build_s = time.perf_counter() - t0
    common.say(f"SD-2-inpainting built in {build_s:.0f} s")
    unet, vae, text = pipe.unet, pipe.vae, pipe.text_encoder
    size, latent = 512, 64
    ids = pipe.tokenizer(["a person"] * 2, padding="max_length", max_length=77, return_tensors="pt").input_ids
    image = torch.randn(1, 3, size, size)
    z = torch.randn(1, 4, latent, latent)
    t = torch.tensor([500])
    parts = {}
    with torch.inference_mode():
        parts["text encoder (2 prompts)"] = common.timed_runs(lambda: text(ids), args.runs)
        parts["VAE encode 512^2"] = common.timed_runs(lambda: vae.encode(image), args.runs)
        parts["VAE decode 64^2 latent"] = common.timed_runs(lambda: vae.decode(z), args.runs)
        unet_runs = {}
        for i, b in enumerate(args.batches):
            x = torch.randn(2 * b, 9, latent, latent)
            h = torch.randn(2 * b, 77, 1024)
            unet_runs[b] = common.timed_runs(lambda x=x, h=h: unet(x, t, encoder_hidden_states=h), args.runs)
            common.say(f"UNet step, {b} image(s) (UNet batch {2 * b}): {unet_runs[b]['wall_s']:.1f} s")
    fixed_wall = sum(p["wall_s"] for p in parts.values())
    fixed_cpu = sum(p["cpu_s"] for p in parts.values())
    per_batch = {}
    for b, r in unet_runs.items():
        wall = fixed_wall + args.steps * r["wall_s"] / b
        cpu = fixed_cpu + args.steps * r["cpu_s"] / b
        per_batch[b] = {"step_wall_s_per_img": r["wall_s"] / b, "step_cpu_s_per_img": r["cpu_s"] / b,
                        "wall_s_per_img": wall, "cpu_s_per_img": cpu, "img_per_s": 1 / wall, "walls": r["walls"]}
    common.write_json("outpaint", {
        "runs": args.runs, "steps": args.steps, "guidance": "classifier-free (2 UNet rows per image)",
        "resolution": size, "build_s": build_s, "unet_params_m": sum(p.numel() for p in unet.parameters()) / 1e6,
        "parts": {k: {"wall_s": v["wall_s"], "cpu_s": v["cpu_s"]} for k, v in parts.items()},
        "per_batch": per_batch, "machine": common.machine(),
    })


if __name__ == "__main__":
    main()
