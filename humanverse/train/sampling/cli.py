"""`humanverse sample`: sampling a trained method from the command line.

    humanverse sample --prompt "a woman jogging in a park" --pose person.json \
        --lsd runs/lsd --refiner runs/refiner --output out/jogger
    humanverse sample --method hand-first --prompt "a man waving" --pose person.json \
        --hand runs/hand --body runs/hand-body --output out/waving

--method hyperhuman (the default) is HyperHuman's two stages:

Stage 1 (--lsd) predicts RGB, depth and normals from the caption and pose; the refiner (--refiner) turns
them into the final image. Any map can come from a file instead (--depth, --normal), e.g. a curated
sample's ground truth, and with every map supplied --lsd is not needed. --drop leaves a condition out.
A --pose file is a curated sample's own json: `tar -xOf out/shards/00000-00000.tar KEY.json > person.json`
(`tar -tf` lists the keys).
--lsd and --refiner take a run directory (its latest checkpoint) or one checkpoint-N folder.

--method hand-first is "Giving a Hand" (arXiv 2403.10731): each hand of the pose is generated (image + mask)
by --hand, placed on the canvas, and the body is outpainted around the hands by --body with sequential mask
expansion (--blend-erosion-per-step, --blend-stop; docs/hands.md). --steps and --guidance-scale are the body
model's, --stage1-steps / --stage1-guidance-scale / --guidance-rescale the hand model's.
"""

from __future__ import annotations

import argparse
import logging
import sys


def _add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--output", required=True, help="output folder (image.png, stage1/, conditions/, sample.json)")
    parser.add_argument("--method", choices=["hyperhuman", "hand-first"], default="hyperhuman",
                        help="hyperhuman (stage 1 + refiner, the default) or hand-first (hand, then body)")
    parser.add_argument("--refiner", help="refiner run directory or checkpoint folder (--method hyperhuman)")
    parser.add_argument("--hand", help="hand generator run directory or checkpoint folder (--method hand-first)")
    parser.add_argument("--body", help="body outpainter run directory or checkpoint folder (--method hand-first)")
    parser.add_argument("--blend-erosion-per-step", type=float, default=0.1,
                        help="hand-first: latent pixels the fused hand region shrinks per step (default 0.1)")
    parser.add_argument("--blend-stop", type=float, default=0.6,
                        help="hand-first: fraction of the body steps that fuse the hands' latents (default 0.6)")
    parser.add_argument("--hand-margin", type=float, default=0.25,
                        help="hand-first: hand box = keypoints' extent widened by this much on each side")
    parser.add_argument("--lsd", help="stage-1 run directory or checkpoint folder (needed unless every map is given)")
    parser.add_argument("--pose", dest="keypoints", metavar="KEYPOINTS_JSON",
                        help="keypoints in the shard .json format (width, height, persons[].keypoints 133x3), e.g. "
                             "a curated sample's own json: tar -xOf out/shards/TASK.tar KEY.json > person.json")
    parser.add_argument("--depth", metavar="PNG", help="depth map to use instead of stage 1's (16- or 8-bit)")
    parser.add_argument("--normal", metavar="PNG", help="normal map to use instead of stage 1's (n = rgb/127.5 - 1)")
    parser.add_argument("--drop", action="append", default=[], metavar="CONDITION",
                        help="leave a condition out (fed as zeros, as in training's dropout); repeatable")
    parser.add_argument("--negative-prompt", default="")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=50, help="refiner DDIM steps")
    parser.add_argument("--guidance-scale", type=float, default=7.5)
    parser.add_argument("--stage1-steps", type=int, default=50)
    parser.add_argument("--stage1-guidance-scale", type=float, default=7.5)
    parser.add_argument("--guidance-rescale", type=float, default=0.7,
                        help="stage 1's guidance rescale (zero-SNR v-prediction; 0.7 per Lin et al. 2023; 0 = off)")
    parser.add_argument("--conditioning-scale", type=float, default=1.0, help="scale of the ControlNet residuals")
    parser.add_argument("--init-strength", type=float, default=1.0,
                        help="< 1 starts the refiner from stage 1's upscaled RGB (SDEdit); 1 starts from noise")
    parser.add_argument("--no-ema", dest="use_ema", action="store_false", help="use raw weights, not the EMA")
    parser.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    parser.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default=None,
                        help="default: float16 on cuda, float32 on cpu")
    parser.set_defaults(func=run, handler=run)
    return parser


def add_sample_parser(subparsers) -> argparse.ArgumentParser:
    """Register `sample` under the top-level subparsers."""
    return _add_arguments(subparsers.add_parser("sample", help="two-stage sampling: caption + pose -> image",
                                                description=__doc__,
                                                formatter_class=argparse.RawDescriptionHelpFormatter))


from humanverse.step_progress import show_steps


def run(args: argparse.Namespace) -> int:
    if args.method == "hand-first":
        return _run_hand_first(args)
    if not args.refiner:
        raise SystemExit("humanverse sample: --refiner is required (or --method hand-first with --hand and --body)")
    return _run_hyperhuman(args)


def _device(args: argparse.Namespace) -> tuple[str, str]:
    import torch

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    return device, args.dtype or ("float16" if device.startswith("cuda") else "float32")


def _run_hand_first(args: argparse.Namespace) -> int:
    from humanverse.train.sampling.hand_first import HandFirstRequest, run_hand_first

    missing = [flag for flag, value in (("--hand", args.hand), ("--body", args.body), ("--pose", args.keypoints))
               if not value]
    if missing:
        raise SystemExit(f"humanverse sample --method hand-first needs {', '.join(missing)}")
    device, dtype = _device(args)
    request = HandFirstRequest(
        prompt=args.prompt, output=args.output, hand=args.hand, body=args.body, keypoints=args.keypoints,
        negative_prompt=args.negative_prompt, seed=args.seed, steps=args.steps, guidance_scale=args.guidance_scale,
        hand_steps=args.stage1_steps, hand_guidance_scale=args.stage1_guidance_scale,
        hand_guidance_rescale=args.guidance_rescale, conditioning_scale=args.conditioning_scale,
        erosion_per_step=args.blend_erosion_per_step, blend_stop=args.blend_stop, hand_margin=args.hand_margin,
        use_ema=args.use_ema, device=device, dtype=dtype,
    )
    with show_steps():  # a bar per denoising loop (log lines when stderr is not a terminal)
        record = run_hand_first(request)
    print(f"wrote {args.output}/image.png in {record['seconds']:.1f} s ({len(record['hands'])} hands, blend stop "
          f"step {record['blend']['stop_step']})", flush=True)
    return 0


def _run_hyperhuman(args: argparse.Namespace) -> int:
    from humanverse.train.sampling.two_stage import TwoStageRequest, run_two_stage

    device, dtype = _device(args)
    request = TwoStageRequest(
        prompt=args.prompt, output=args.output, refiner=args.refiner, lsd=args.lsd, keypoints=args.keypoints,
        depth=args.depth, normal=args.normal, drop=list(args.drop), negative_prompt=args.negative_prompt,
        seed=args.seed, steps=args.steps, guidance_scale=args.guidance_scale, stage1_steps=args.stage1_steps,
        stage1_guidance_scale=args.stage1_guidance_scale, stage1_guidance_rescale=args.guidance_rescale,
        conditioning_scale=args.conditioning_scale,
        init_strength=args.init_strength, use_ema=args.use_ema, device=device, dtype=dtype,
    )
    with show_steps():
        record = run_two_stage(request)
    print(f"wrote {args.output}/image.png in {record['seconds']:.1f} s (conditions: "
          + ", ".join(f"{k}={v}" for k, v in record["condition_sources"].items()) + ")", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = _add_arguments(argparse.ArgumentParser(prog="humanverse sample", description=__doc__,
                                                    formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
