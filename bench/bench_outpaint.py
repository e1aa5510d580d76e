"""CPU cost of outpainting one image with SD-2-inpainting at full size (random weights, real compute).

Builds the published SD-2-inpainting architecture from its configs (9-channel UNet 320/640/1280/1280 with
linear-projection attention and 1024-d cross-attention, the SD VAE, the OpenCLIP ViT-H text encoder as a
23-layer CLIPTextModel) and runs it through SdInpainter.outpaint, the stage's own call. Timed:

- one UNet forward at the latent of the chosen canvas, batch 2 (a classifier-free-guidance pair) and 1;
- the whole outpaint call at two step counts; time is fixed + steps x per-step, which gives the fixed
  part (text encoder, VAE encode and decode, resizing) and extrapolates to the configured schedule,
  because a 20- or 50-step run takes minutes per image on CPU. Process CPU seconds are printed beside
  wall time: on shared cores they stay honest when wall time does not (wall ~ CPU / threads when idle).

Usage:

    python bench/bench_outpaint.py [--threads 2] [--canvas 512 512] [--steps 1 3] [--schedule 20 50]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def build_full_size_pipeline():
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionInpaintPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    from humanverse.models.inpaint.sd_inpaint import clip_tokenizer_offline

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=9,
        out_channels=4,
        block_out_channels=(320, 640, 1280, 1280),
        layers_per_block=2,
        down_block_types=("CrossAttnDownBlock2D",) * 3 + ("DownBlock2D",),
        up_block_types=("UpBlock2D",) + ("CrossAttnUpBlock2D",) * 3,
        attention_head_dim=(5, 10, 20, 20),
        cross_attention_dim=1024,
        use_linear_projection=True,
    )
    vae = AutoencoderKL(
        block_out_channels=(128, 256, 512, 512),
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        layers_per_block=2,
        latent_channels=4,
        sample_size=768,
    )
    tokenizer = clip_tokenizer_offline()
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            vocab_size=len(tokenizer),
            hidden_size=1024,
            intermediate_size=4096,
            num_attention_heads=16,
            num_hidden_layers=23,
            projection_dim=512,
            hidden_act="gelu",
            max_position_embeddings=77,
        )
    )
    scheduler = PNDMScheduler(
        beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", skip_prk_steps=True, steps_offset=1
    )
    return StableDiffusionInpaintPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )


def timed(fn, repeat: int = 1) -> tuple[float, float]:
    """(wall s, process CPU s) of the last of `repeat` runs."""
    wall = cpu = 0.0
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--canvas", type=int, nargs=2, default=[512, 512], metavar=("W", "H"))
    parser.add_argument("--steps", type=int, nargs=2, default=[1, 3], help="two step counts to fit fixed + per-step")
    parser.add_argument("--schedule", type=int, nargs="+", default=[20, 50], help="step counts to extrapolate to")
    parser.add_argument("--scheduler", default="dpmpp")
    parser.add_argument("--guidance", type=float, default=7.5)
    args = parser.parse_args()

    import torch

    from humanverse.imaging.outpaint_canvas import (
        Canvas,
        new_area_mask,
        pad_to_canvas,
    )
    from humanverse.models.inpaint.sd_inpaint import SdInpainter, model_size, use_scheduler

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    pipe = build_full_size_pipeline()
    use_scheduler(pipe, args.scheduler)
    inpainter = SdInpainter(pipe)
    params = sum(p.numel() for p in pipe.unet.parameters()) / 1e6
    print(
        f"built in {time.perf_counter() - t0:.0f} s; UNet {params:.0f} M params; native {inpainter.resolution} px; "
        f"{torch.get_num_threads()} threads"
    )

    # a canvas of the requested size: an original grown by a quarter of its height at the bottom
    cw, ch = args.canvas
    oh = round(ch / 1.25)
    canvas = Canvas(cw, oh, cw, ch, 0, 0)
    rng = np.random.default_rng(0)
    original = rng.integers(0, 255, (oh, cw, 3), dtype=np.uint8)
    image, mask = pad_to_canvas(original, canvas), new_area_mask(canvas)
    mw, mh = model_size(cw, ch, inpainter.resolution, inpainter.grid)
    print(f"canvas {cw}x{ch} -> model {mw}x{mh} (latent {mw // 8}x{mh // 8})")

    latent = torch.randn(2, 9, mh // 8, mw // 8)
    text = torch.randn(2, 77, 1024)
    t = torch.tensor([500])
    with torch.inference_mode():
        for batch in (2, 1):
            wall, cpu = timed(lambda b=batch: pipe.unet(latent[:b], t, encoder_hidden_states=text[:b]), repeat=2)
            print(f"UNet forward, batch {batch}: {wall:.2f} s wall, {cpu:.2f} s CPU")

    inpainter.outpaint([image], [mask], ["a person"], [0], 1, args.guidance)  # warm-up: first-call allocations
    runs = {}
    for steps in args.steps:
        runs[steps] = timed(lambda n=steps: inpainter.outpaint([image], [mask], ["a person"], [0], n, args.guidance))
        print(
            f"outpaint call, {steps} step(s), guidance {args.guidance}: {runs[steps][0]:.1f} s wall, {runs[steps][1]:.1f} s CPU"
        )
    (a, ra), (b, rb) = sorted(runs.items())
    for i, kind in enumerate(("wall", "CPU")):
        per_step = (rb[i] - ra[i]) / (b - a)
        fixed = ra[i] - a * per_step
        print(
            f"fit ({kind} s): fixed {fixed:.1f} + {per_step:.2f}/step; "
            + ", ".join(f"{n} steps -> {fixed + n * per_step:.0f}" for n in args.schedule)
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.1f} GiB")


if __name__ == "__main__":
    main()
