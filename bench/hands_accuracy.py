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
from humanverse.accuracy import hand_kit, pipeline_run  # noqa: E402
from humanverse.accuracy.ground_truth import research_only  # noqa: E402
from humanverse.accuracy.hands import margin_coverage, score_hands  # noqa: E402


def _f(v, digits=2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def kit_section(preset: str, extra: list[str], work: Path) -> list[str]:
    """The kit's real hands (../shared/realdata/hands), without and with MediaPipe Hands refinement."""
    if work.exists():
        import shutil

        shutil.rmtree(work)  # a scratch folder: every run starts afresh
    photos = hand_kit.load()
    methods = {}
    for label, refine in (("pose stage (Holistic hands), hands.refine=false", "false"),
                          ("+ MediaPipe Hands refinement, hands.refine=true", "true")):
        crops_cfg = cfgmod.resolve(preset, None, [*extra, f"hands.refine={refine}"])
        frames_cfg = cfgmod.resolve(preset, None, pipeline_run.RELAXED + pipeline_run.POSE_ONLY
                                    + ["input.rows_per_task=64", *extra, f"hands.refine={refine}"])
        preds = hand_kit.crop_predictions(crops_cfg, photos)
        preds |= hand_kit.frame_predictions(frames_cfg, photos, work / f"frames-{len(methods)}")
        methods[label] = hand_kit.score(photos, preds)
    lines = ["## Real hands: the kit's 21-point hand ground truth (`../shared/realdata/hands`)", "",
             "Written by the same command (humanverse/accuracy/hand_kit.py defines every number). Hand crops "
             "(OneHand10K, FreiHAND, RHD, InterHand2.6M) are handed to the pose stage as one person box, the whole "
             "crop, never the landmarks, then to the hands stage; the Panoptic frames go through the curation "
             "pipeline (loopback fetch, decode, detection, pose, hands; person rule relaxed). Refinement "
             "(`hands.refine`): MediaPipe Hands (palm detector + landmarks) on a region upscaled to 512 px: around "
             "each hand the pose model found (2x its box), each wrist without one (0.4 x the person box), and the "
             "whole person box when it found no hand; each hand it finds is read again by the hand landmark model "
             "on MediaPipe's tracking region cut around its own points (upright, 2x the palm), whose handedness "
             "(mirrored, swapped back) gives the side (the pose model's hands, re-read the same way, keep their "
             "wrist's side); where neither the pose model nor the palm detector found a hand and the person box is "
             "a close-up without a face (>= half the picture, >= 128 px, no face-mesh point: "
             "`hands.refine_search`), the landmark model alone searches the box (half-overlapping squares of 0.6 "
             "and 0.4 x its long side, at 0/90/180/270 degrees; presence >= 0.5, MediaPipe's own tracking "
             "threshold). Hands "
             "overlapping at IoU > 0.5 are one; per side, the surer of the pose model's and the refinement's is "
             "kept. The refinement's settings were chosen on this same kit (no held-out set). Each distinct "
             "picture counts once (Panoptic _l/_r are byte-identical; FreiHAND's 4 copies of a pose weigh 1/4 each, "
             "so hand counts can be fractional). found: over all GT hands; PCK@0.2 of the GT keypoint box's long "
             "side (missed hands count 0); side: right side over GT hands with a side (missed = wrong); IoU: "
             "keypoint boxes of found hands; extra: predicted hands matched to no GT hand (false hands, or hands "
             "the dataset does not label; not split by size). '>= 60 px': GT keypoint box long side >= 60 px (the hands stage's "
             "`hands.quality.min_box_px` 64 is on a square of 1.5 x the keypoints' extent, about 43 px here). "
             "RHD is rendered, not photographed. † research-only or non-commercial (realdata/MANIFEST.md).", "",
             "| method | dataset | GT hands | found | PCK@0.2 | side right (hands with a side) | box IoU | extra |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    order = list(hand_kit.CROP_DATASETS + hand_kit.FRAME_DATASETS) + ["all", "all, >= 60 px"]
    for label, result in methods.items():
        for key in order:
            r = result["rows"].get(key)
            if r:
                lines.append(f"| {label} | {key} | {r['hands']:.2f} | {_f(r['found'])} | {_f(r['pck'])} | "
                             f"{_f(r['side'])} ({r['sided']:.0f}) | {_f(r['iou'])} | "
                             f"{'–' if key.endswith('px') else _f(r['extra'])} |")
    lines += ["", "Per photo (found / PCK@0.2 / side right, without -> with refinement):", "",
              "| photo | dataset | GT hands (px) | without | with refinement | sides found (with) |",
              "| --- | --- | --- | --- | --- | --- |"]
    (_, base), (_, ref) = methods.items()
    for (p, r0, _), (_, r1, sides) in zip(base["per_photo"], ref["per_photo"]):
        gt = ", ".join(f"{h.side or '?'} {h.size:.0f}" for h in p.hands)
        cell = lambda r: f"{_f(r['found'])} / {_f(r['pck'])} / {_f(r['side'])}"  # noqa: E731
        lines.append(f"| {p.name}{' †' if research_only(p.name) else ''} | {p.dataset} | {gt} | {cell(r0)} | "
                     f"{cell(r1)} | {', '.join(sides) or '–'} |")
    return lines + [""]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--out", default=str(BENCH / "HANDS.md"))
    parser.add_argument("--work", default="/tmp/humanverse-hands-accuracy", help="scratch folder for the frames' run")
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
    lines = lines[:2] + kit_section(args.preset, args.set, Path(args.work)) + [
        "## COCO-WholeBody hands (10-24 px) in the shared people photos", ""] + lines[2:]
    text = "\n".join(lines) + "\n"
    print(text)
    Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
