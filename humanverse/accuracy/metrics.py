"""Detection and pose metrics against ground truth: box matching, PCK, per-person OKS and OKS AP.

OKS AP is xtcocotools' COCOeval (the COCO keypoint evaluation that MMPose installs; pycocotools is kept out
of the venv on purpose). It runs in COCO-17 space with COCO's sigmas: a dataset joint without a COCO
counterpart is unlabelled there (v = 0), so it neither helps nor hurts.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np

from humanverse.accuracy.ground_truth import GTPerson
from humanverse.accuracy.keypoint_defs import COCO_SIGMAS, PARTS
from humanverse.models.box_overlap import box_iou


def match_boxes(gt_boxes, pred_boxes, min_iou: float = 0.5) -> list[tuple[int, int]]:
    """Greedy one-to-one matching, highest IoU first; pairs (gt index, prediction index) with IoU >= min_iou."""
    iou = box_iou(np.asarray(gt_boxes), np.asarray(pred_boxes))
    pairs, used_g, used_p = [], set(), set()
    for flat in np.argsort(-iou, axis=None):
        g, p = np.unravel_index(flat, iou.shape)
        if iou[g, p] < min_iou:
            break
        if g not in used_g and p not in used_p:
            pairs.append((int(g), int(p)))
            used_g.add(g)
            used_p.add(p)
    return pairs


def long_side(box) -> float:
    return float(max(box[2] - box[0], box[3] - box[1]))


def pck_counts(pred: np.ndarray, gt: GTPerson, threshold: float = 0.2) -> dict[str, tuple[int, int]]:
    """Per part (body, feet, face, hands): (correct, labelled). Correct = predicted (score > 0) and within
    threshold x the GT box's long side. A point the model did not give counts as a miss."""
    pred = np.asarray(pred, dtype=np.float32).reshape(-1, 3)
    limit = threshold * long_side(gt.box)
    out = {}
    for part, idx in PARTS.items():
        idx = list(idx)
        labelled = gt.keypoints[idx, 2] > 0
        dist = np.linalg.norm(pred[idx, :2] - gt.keypoints[idx, :2], axis=1)
        correct = labelled & (pred[idx, 2] > 0) & (dist <= limit)
        out[part] = (int(correct.sum()), int(labelled.sum()))
    return out


def oks(pred: np.ndarray, gt: GTPerson) -> float | None:
    """Object keypoint similarity over the labelled COCO-17 joints (None when none is labelled)."""
    pred = np.asarray(pred, dtype=np.float32).reshape(-1, 3)[:17]
    g = gt.keypoints[:17]
    labelled = g[:, 2] > 0
    if not labelled.any():
        return None
    var = (2 * np.asarray(COCO_SIGMAS)) ** 2
    d2 = np.sum((pred[:, :2] - g[:, :2]) ** 2, axis=1)
    e = d2 / var / (max(gt.area, 1.0) + np.spacing(1)) / 2
    return float(np.mean(np.exp(-e)[labelled]))


def oks_ap(images: list[tuple[int, list[GTPerson], list[np.ndarray], list[float]]]) -> float | None:
    """COCO keypoint AP (OKS 0.50:0.95) with xtcocotools' COCOeval.

    images: (image id, GT persons, predicted 133 x 3 keypoints per detection, detection score per detection).
    None when no GT person has a labelled body joint.
    """
    from xtcocotools.coco import COCO
    from xtcocotools.cocoeval import COCOeval

    gt_doc = {"images": [], "annotations": [], "categories": [{"id": 1, "name": "person"}]}
    dets = []
    for image_id, persons, preds, scores in images:
        gt_doc["images"].append({"id": image_id})
        for p in persons:
            kp = p.keypoints[:17].copy()
            n = int((kp[:, 2] > 0).sum())
            x0, y0, x1, y1 = p.box
            gt_doc["annotations"].append({
                "id": len(gt_doc["annotations"]) + 1, "image_id": image_id, "category_id": 1, "iscrowd": 0,
                "bbox": [x0, y0, x1 - x0, y1 - y0], "area": p.area, "num_keypoints": n,
                "keypoints": np.where(kp[:, 2:3] > 0, np.concatenate([kp[:, :2], np.full((17, 1), 2.0)], 1), 0)
                .reshape(-1).tolist(),
            })
        for pred, score in zip(preds, scores):
            kp = np.asarray(pred, dtype=np.float32).reshape(-1, 3)[:17]
            dets.append({"image_id": image_id, "category_id": 1, "keypoints": kp.reshape(-1).tolist(),
                         "score": float(score)})
    if not any(a["num_keypoints"] for a in gt_doc["annotations"]):
        return None
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = gt_doc
        coco_gt.createIndex()
        if not dets:
            return 0.0
        coco_dt = coco_gt.loadRes(dets)
        ev = COCOeval(coco_gt, coco_dt, "keypoints", np.asarray(COCO_SIGMAS), use_area=True)
        ev.params.useSegm = None
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return float(max(ev.stats[0], 0.0))
