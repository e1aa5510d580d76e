"""Ground-truth accuracy of the hands stage -> bench/HANDS.md (humanverse/accuracy/hands.py defines the numbers).

    .venv/bin/python bench/hands_accuracy.py                      # the demo preset's MediaPipe Holistic
    .venv/bin/python bench/hands_accuracy.py --preset humanverse  # ViTPose-H, once its weights are in place
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH  # noqa: E402

from humanverse import config as cfgmod  # noqa: E402
from humanverse.accuracy.hands import margin_coverage, score_hands  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--out", default=str(BENCH / "HANDS.md"))
    args = parser.parse_args()
    cfg = cfgmod.resolve(args.preset, None, args.set)
    r = score_hands(cfg)
    lines = [
        f"# Hands on the shared COCO-WholeBody photos ({args.preset} preset, pose backend {cfg.pose.backend})",
        "",
        "Written by bench/hands_accuracy.py (humanverse/accuracy/hands.py defines every number). GT person boxes; box rule: "
        f"square, {cfg.hands.box.box_scale} x the visible points' long side, threshold {cfg.hands.box.min_score}.",
        "",
        f"- labelled GT hands: {r['hands']}; found: {r['found']}; side swapped: {r['swapped']}",
        f"- hand PCK@0.2 (missed hands count 0): {r['pck']:.3f}; mean point error of found hands: "
        f"{r['mean_err'] if r['mean_err'] is None else round(r['mean_err'], 3)} x hand size",
        f"- square-box IoU vs the GT points' square box: median {r['median_iou'] and round(r['median_iou'], 3)}, "
        f"mean {r['mean_iou'] and round(r['mean_iou'], 3)}",
        f"- hand mask (selfie person mask ∩ boxes): GT hand points on the mask, predicted boxes "
        f"{r['mask_recall_pred_boxes']:.3f}, GT boxes {r['mask_recall_gt_boxes']:.3f}",
        "",
        "| photo | side | GT hand px | found | PCK@0.2 | err/size | box IoU | score |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in r["rows"]:
        lines.append(f"| {row['photo']} | {row['side']}{' (swapped)' if row.get('swapped') else ''} | "
                     f"{row['gt_size_px']} | {row['found']} | {row.get('pck', '-')} | {row.get('err', '-')} | "
                     f"{row.get('iou', '-')} | {row.get('score', '-')} |")
    lines += ["", "The margin: how much of COCO-WholeBody's annotated hand box (drawn around the whole hand) the square "
              "from the same hand's GT keypoints covers, per box_scale (no pose model involved):", "",
              "| box_scale | hands | coverage mean | coverage min | IoU mean |", "|---|---|---|---|---|"]
    for scale, m in margin_coverage().items():
        lines.append(f"| {scale} | {m['hands']} | {m['coverage_mean']:.3f} | {m['coverage_min']:.3f} | {m['iou_mean']:.3f} |")
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
