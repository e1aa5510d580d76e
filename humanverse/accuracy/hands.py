"""Ground-truth accuracy of the hands stage's boxes, keypoints and hand masks (bench/hands_accuracy.py
writes it to bench/HANDS.md; tests/accuracy/test_hands_accuracy.py checks one photo).

On the shared photos with COCO-WholeBody ground truth (../shared/realdata/people: the four COCO photos, 10
labelled hands), the preset's pose stage runs on the GT person boxes (so detection errors are left out), the
hands stage turns its 133 points into hands, and each labelled GT hand is scored against the predicted hand of
the same person and side:
- found: the hand is listed (some point at or above the visibility threshold);
- side swapped: the hand listed under the *other* side lies on this GT hand (mean point error <= 0.5 x its
  size) and closer than the one listed under its own side, if any: the pose model's left/right confusion;
- hand PCK@0.2: the share of labelled GT points within 0.2 x the GT hand's tight-box long side (missed hands
  count as 0), and the mean point error in the same unit;
- box IoU: the predicted square box against the square box the same rule draws around the GT points;
- hand mask (MediaPipe selfie segmentation ∩ hand boxes): the share of labelled GT hand points that land on
  hand-mask pixels, with the predicted boxes and with the GT boxes (the latter is the person mask's own recall
  on hands). There is no hand-mask ground truth in the shared data, so no precision is measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from humanverse.accuracy import ground_truth, pipeline_run
from humanverse.models.box_overlap import box_iou
from humanverse.stages.hand_boxes import LEFT_HAND, RIGHT_HAND, hands_from_wholebody, square_box
from humanverse.stages.hand_mask import boxes_mask

SIDES = {"left": LEFT_HAND, "right": RIGHT_HAND}


def person_masks(paths: list[Path]) -> list[np.ndarray]:
    """The selfie-segmentation person mask (>= 0.5) of each photo, through the mask stage as curation runs it."""
    from PIL import Image

    from humanverse.core.sample import Sample
    from humanverse.shards.encoding import decode_mask8
    from humanverse.stages.mask import MaskConfig, MaskStage

    stage = MaskStage(MaskConfig())
    stage.setup()
    out = []
    for path in paths:
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        s = Sample(key="000000000", task_id="t", source={})
        s.image, (s.height, s.width) = rgb, rgb.shape[:2]
        stage.process([s])
        out.append(decode_mask8(s.members["mask.png"]) >= 0.5)
    return out


def score_hands(cfg, names: list[str] | None = None) -> dict:
    """The numbers of bench/HANDS.md for the preset `cfg` (see the module docstring), optionally on `names` only."""
    images = [im for im in ground_truth.load(names=names) if im.dataset == "coco_wholebody"]
    poses = pipeline_run.pose_on_boxes(cfg, [(im.path.read_bytes(), [p.box for p in im.persons]) for im in images])
    masks = person_masks([im.path for im in images])
    rows, pck_hits, pck_total, errs, ious = [], 0, 0, [], []
    swapped = found = 0
    mask_hits_pred = mask_hits_gt = mask_points = 0
    for im, kps, person_mask in zip(images, poses, masks):
        for gt, kp in zip(im.persons, kps):
            pred = {h["side"]: h for h in hands_from_wholebody({"box": gt.box, "keypoints": kp.tolist()}, im.width,
                                                              im.height, cfg.hands.box)}
            for side, part in SIDES.items():
                g = gt.keypoints[part]
                labelled = g[:, 2] > 0
                if labelled.sum() < 21 // 2:
                    continue
                size = float(np.ptp(g[labelled, :2], axis=0).max())
                gt_box = square_box(g[labelled, :2], im.width, im.height, cfg.hands.box)
                hand = pred.get(side)
                other = pred.get("left" if side == "right" else "right")
                pck_total += int(labelled.sum())
                row = {"photo": im.name, "side": side, "gt_size_px": round(size, 1), "found": hand is not None}
                if other is not None:
                    d_other = np.linalg.norm(np.asarray(other["keypoints"])[labelled, :2] - g[labelled, :2], axis=1).mean()
                    d_same = (np.linalg.norm(np.asarray(hand["keypoints"])[labelled, :2] - g[labelled, :2], axis=1).mean()
                              if hand is not None else np.inf)
                    if d_other < d_same and d_other <= 0.5 * size:
                        swapped += 1
                        row["swapped"] = True
                if hand is not None:
                    found += 1
                    d = np.linalg.norm(np.asarray(hand["keypoints"])[labelled, :2] - g[labelled, :2], axis=1)
                    pck_hits += int((d <= 0.2 * size).sum())
                    errs.append(float(d.mean() / size))
                    iou = float(box_iou(np.array([hand["box"]]), np.array([gt_box]))[0, 0])
                    ious.append(iou)
                    row.update(pck=round(float((d <= 0.2 * size).mean()), 3), err=round(float(d.mean() / size), 3),
                               iou=round(iou, 3), score=hand["score"])
                pts = np.round(g[labelled, :2]).astype(int)
                pts[:, 0] = np.clip(pts[:, 0], 0, im.width - 1)
                pts[:, 1] = np.clip(pts[:, 1], 0, im.height - 1)
                pred_boxes = [h["box"] for h in pred.values()]
                on_pred = (person_mask & boxes_mask(pred_boxes, im.width, im.height))[pts[:, 1], pts[:, 0]]
                on_gt = (person_mask & boxes_mask([gt_box], im.width, im.height))[pts[:, 1], pts[:, 0]]
                mask_hits_pred += int(on_pred.sum())
                mask_hits_gt += int(on_gt.sum())
                mask_points += len(pts)
                rows.append(row)
    n = len(rows)
    return {
        "hands": n, "found": found, "swapped": swapped,
        "pck": pck_hits / max(pck_total, 1), "mean_err": float(np.mean(errs)) if errs else None,
        "median_iou": float(np.median(ious)) if ious else None, "mean_iou": float(np.mean(ious)) if ious else None,
        "mask_recall_pred_boxes": mask_hits_pred / max(mask_points, 1),
        "mask_recall_gt_boxes": mask_hits_gt / max(mask_points, 1), "rows": rows,
    }


def margin_coverage(scales: tuple[float, ...] = (1.0, 1.25, 1.5, 1.75, 2.0)) -> dict[float, dict[str, float]]:
    """How much of COCO-WholeBody's annotated hand box (`lefthand_box` / `righthand_box`, drawn by people around
    the whole hand) the square drawn from the same hand's GT keypoints covers, per box_scale: the margin's
    justification, independent of any pose model. {scale: {coverage_mean, coverage_min, iou_mean}}."""
    import json

    from humanverse.stages.hand_boxes import HandBoxConfig

    doc = json.loads((ground_truth.people_dir() / "annotations" / "mmpose_coco_test_coco_wholebody.json").read_text())
    sizes = {im["id"]: (im["width"], im["height"]) for im in doc["images"]}
    out = {}
    for scale in scales:
        coverage, ious = [], []
        for ann in doc["annotations"]:
            for side in ("left", "right"):
                if not ann[f"{side}hand_valid"]:
                    continue
                kp = np.asarray(ann[f"{side}hand_kpts"], dtype=np.float64).reshape(21, 3)
                width, height = sizes[ann["image_id"]]
                square = square_box(kp[kp[:, 2] > 0, :2], width, height, HandBoxConfig(box_scale=scale))
                x, y, w, h = ann[f"{side}hand_box"]
                ix = max(0.0, min(square[2], x + w) - max(square[0], x)) * max(0.0, min(square[3], y + h) - max(square[1], y))
                coverage.append(ix / (w * h))
                ious.append(float(box_iou(np.array([square]), np.array([[x, y, x + w, y + h]]))[0, 0]))
        out[scale] = {"coverage_mean": float(np.mean(coverage)), "coverage_min": float(np.min(coverage)),
                      "iou_mean": float(np.mean(ious)), "hands": len(coverage)}
    return out
