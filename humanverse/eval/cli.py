"""`humanverse eval`: HyperHuman's Table-1 metrics for a trained model on held-out shards.

  humanverse eval --lsd runs/lsd [--refiner runs/refiner] --data 'val/*.tar' --num-samples 1000 --output ev/
  humanverse eval --self-check --data 'val/*.tar' --num-samples 200 --output ev-check/   # real images as generated
  humanverse eval --method hand-first --hand runs/hand --body runs/hand-body --data 'val/*.tar' --num-samples 1000 \
      --output ev-hands/      # adds hand PCK and hand-crop FID/KID (--self-check works with it too)

Rerunning the same command resumes: generated images are cached under OUTPUT/generated/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _add_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--data", required=True, nargs="+", help="held-out shards (globs or brace patterns)")
    p.add_argument("--output", required=True, help="output folder (metrics.json, index.html, generated/)")
    p.add_argument("--num-samples", type=int, required=True, help="held-out samples to generate and score")
    p.add_argument("--method", choices=["hyperhuman", "hand-first"], default="hyperhuman",
                   help="hyperhuman (--lsd [--refiner]) or hand-first (--hand --body): adds hand metrics")
    p.add_argument("--hand", help="hand-first: hand generator run directory or checkpoint folder")
    p.add_argument("--body", help="hand-first: body outpainter run directory or checkpoint folder")
    p.add_argument("--lsd", help="stage-1 run directory or checkpoint folder")
    p.add_argument("--refiner", help="refiner run directory or checkpoint folder (then images are the refiner's)")
    p.add_argument("--self-check", action="store_true",
                   help="score the real images as if generated, plus blurred / noisy / shifted copies and shuffled "
                        "captions: each must score worse (validates the harness; needs no trained model)")
    p.add_argument("--size", type=int, default=512, help="self-check: side the real images are framed at")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--steps", type=int, help="DDIM steps, stage 1 (default 50)")
    p.add_argument("--guidance", type=float, help="stage-1 classifier-free guidance scale (default 7.5)")
    p.add_argument("--guidance-rescale", type=float, help="stage-1 guidance rescale (default 0.7; 0 = off)")
    p.add_argument("--refiner-steps", type=int, help="refiner DDIM steps (default 50)")
    p.add_argument("--refiner-guidance", type=float, help="refiner guidance scale (default 7.5)")
    p.add_argument("--config", help="YAML eval config (features, pose, generation sections)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. pose.pose.backend=mediapipe")
    p.add_argument("--models-dir", help="models directory (default $HUMANVERSE_MODELS)")
    p.add_argument("--force", action="store_true", help="discard cached images made with other settings")
    p.add_argument("--offline", action="store_true",
                   help="no published weights: tiny random-weight metric networks built on first use (figures are "
                        "labelled random and mean nothing)")
    p.add_argument("--device", default=None, help="default: cuda when available, else cpu")
    p.add_argument("--dtype", choices=["float32", "bfloat16", "float16"], default=None)
    p.set_defaults(func=run, handler=run)
    return p


def add_eval_parser(subparsers) -> argparse.ArgumentParser:
    return _add_arguments(subparsers.add_parser("eval", help="FID, KID, FID-CLIP, CLIP score and pose accuracy",
                                                description=__doc__,
                                                formatter_class=argparse.RawDescriptionHelpFormatter))


def load_eval_config(args: argparse.Namespace):
    """The config file (optional), the flags, then `--set` overrides: through the one config loader, so a
    bad key is a ConfigError naming it."""
    from humanverse.config_base import apply_overrides, load_yaml, validate
    from humanverse.eval.config import EvalConfig

    tree = load_yaml(args.config) if args.config else {}
    generation = {"steps": args.steps, "guidance_scale": args.guidance, "guidance_rescale": args.guidance_rescale,
                  "refiner_steps": args.refiner_steps, "refiner_guidance_scale": args.refiner_guidance}
    for key, value in generation.items():
        if value is not None:
            tree.setdefault("generation", {})[key] = value
    if args.models_dir:
        tree["models_dir"] = args.models_dir
    return validate(EvalConfig, apply_overrides(tree, list(args.overrides)))


def run(args: argparse.Namespace) -> int:
    import torch

    from humanverse.eval.run import EvalRequest, run_eval

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    request = EvalRequest(
        data=args.data if len(args.data) > 1 else args.data[0], output=args.output, num_samples=args.num_samples,
        lsd=args.lsd, refiner=args.refiner, method=args.method, hand=args.hand, body=args.body, seed=args.seed,
        self_check=args.self_check, size=args.size, offline=args.offline,
        force=args.force, device=device, dtype=args.dtype or ("float16" if device.startswith("cuda") else "float32"),
        cfg=load_eval_config(args),
    )
    metrics = run_eval(request, progress=lambda line: print(line, file=sys.stderr, flush=True))
    shown = metrics["variants"] if metrics.get("self_check") else {"generated": metrics}
    for name, m in shown.items():
        print(f"{name}: FID {m['fid']:.3f}  KID {m['kid']:.5f}  FID-CLIP {m['fid_clip']:.3f}  "
              f"CLIP score {m['clip_score']:.2f}  PCK@{m['pose']['alpha']} {m['pose']['pck']}")
        if "hands" in m:
            h = m["hands"]
            print(f"{name} hands: FID {h['fid']:.3f}  KID {h['kid']:.5f}  hand PCK@{h['pose']['alpha']} "
                  f"{h['pose']['pck']}  found {h['pose']['hands_found']}  ({h['num_crops']} hands)")
    print(f"wrote {Path(args.output) / 'metrics.json'} and index.html")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _add_arguments(argparse.ArgumentParser(prog="humanverse eval", description=__doc__,
                                                    formatter_class=argparse.RawDescriptionHelpFormatter))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
