"""Ground-truth accuracy of the pipeline's person boxes and whole-body keypoints -> bench/ACCURACY.md.

One command:
    .venv/bin/python bench/accuracy.py                       # the demo preset (HOG + MediaPipe)
    .venv/bin/python bench/accuracy.py --preset humanverse   # YOLO + ViTPose-H, once their weights are in place
    .venv/bin/python bench/accuracy.py --preset sapiens      # YOLO + Sapiens2 pose, once their weights are in place
    .venv/bin/python bench/accuracy.py --set pose.mediapipe.holistic=false --out /tmp/A.md

It curates the shared ground-truth photos (../shared/realdata/people) through the real pipeline: served on
127.0.0.1, fetched, decoded, detected, the person rule relaxed so every annotated person can count, posed,
written to shards. Then it scores what the shards hold:
- detection: recall and precision at IoU >= 0.5, only on photos whose GT annotates every person, plus the
  boxes found on photos with no people;
- pose, for persons matched at IoU >= 0.5: PCK@0.2 (of the GT box's long side) per whole-body part, and
  OKS AP with xtcocotools' COCOeval, per dataset and per photo;
- the same pose metrics again with the GT boxes handed to the same pose stage, so that pose errors and
  detection errors are told apart;
- the pose stage's CPU time per person on the GT boxes.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import BENCH, OUT, load_avg, machine  # noqa: E402

from humanverse import config as cfgmod  # noqa: E402
from humanverse.accuracy import ground_truth, metrics, pipeline_run  # noqa: E402
from humanverse.accuracy.keypoint_defs import DEFINITIONS, PARTS  # noqa: E402
from humanverse.model_provenance import provenance_line  # noqa: E402

SAPIENS_NOTE = (
    '`bench/accuracy.py --preset sapiens` runs that preset unchanged the day the Sapiens2 weights are in the '
    'models directory (`humanverse models check --preset sapiens`); until then it stops before any work, naming '
    'the missing Sapiens2 folders (and YOLO11x). Only tiny random-weight Sapiens2 models have gone through the '
    'harness so far (`--set detect.backend=hog --set pose.sapiens_weights=<tiny folder> --set '
    'pose.sapiens_arch=sapiens2-tiny`, plus `--set {fetch,detect,pose}.resources={num_cpus: 0.5, num_gpus: 0, '
    'actors: 1}` on a machine without a GPU, since the preset asks for one), so there are no Sapiens2 numbers here.'
)
MATCH_IOU = 0.5
PCK_THRESHOLD = 0.2


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="demo")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--out", default=str(BENCH / "ACCURACY.md"))
    p.add_argument("--work", default=str(OUT / "accuracy"), help="scratch folder for the curated shards")
    p.add_argument("--only", action="append", default=[], metavar="PHOTO",
                   help="score only these photos (file names; repeatable): a quick check, not a report")
    return p.parse_args(argv)


class Tally:
    """PCK hits per part, OKS per person, and COCOeval inputs, for one group (a dataset, a photo, all)."""

    def __init__(self):
        self.pck = defaultdict(lambda: [0, 0])
        self.oks: list[float] = []
        self.persons = 0

    def add(self, pred: np.ndarray, person) -> None:
        for part, (hit, total) in metrics.pck_counts(pred, person, PCK_THRESHOLD).items():
            self.pck[part][0] += hit
            self.pck[part][1] += total
        o = metrics.oks(pred, person)
        if o is not None:
            self.oks.append(o)
        self.persons += 1

    def pck_text(self, part: str) -> str:
        hit, total = self.pck[part]
        return f"{hit / total:.2f} ({hit}/{total})" if total else "–"


def detection_pass(images, results):
    """Per photo: (detections, matched pairs, predicted keypoints per detection, detection scores)."""
    out = {}
    for image in images:
        row = results[image.name]
        meta = row["json"] or {}
        persons = meta.get("persons", [])
        boxes = [p["box"] for p in persons]
        pairs = metrics.match_boxes([p.box for p in image.persons], boxes, MATCH_IOU) if boxes and image.persons else []
        kps = [np.asarray(p.get("keypoints") or np.zeros((133, 3)), dtype=np.float32).reshape(133, 3) for p in persons]
        out[image.name] = {"status": row["status"], "reason": row["reason"], "boxes": boxes, "pairs": pairs,
                           "keypoints": kps, "scores": [float(p.get("score", 1.0)) for p in persons]}
    return out


def gt_box_pass(images, cfg):
    """Per photo: the pose stage's keypoints on the GT boxes, and CPU seconds / persons of the pose stage."""
    photos = [(image.path.read_bytes(), [p.box for p in image.persons]) for image in images]
    pipeline_run.pose_on_boxes(cfg, photos[:1])  # warm-up: model load is not per-person cost
    c0, w0 = time.process_time(), time.perf_counter()
    kps = pipeline_run.pose_on_boxes(cfg, photos)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    persons = sum(len(b) for _, b in photos)
    return {image.name: k for image, k in zip(images, kps)}, {"cpu_s": cpu, "wall_s": wall, "persons": persons}


def oks_ap_of(entries) -> str:
    ap = metrics.oks_ap(entries)
    return "–" if ap is None else f"{ap:.3f}"


def score(images, people_free, det, gt_kps):
    by_dataset = defaultdict(list)
    for image in images:
        by_dataset[image.dataset].append(image)
    rows = {"detection": [], "pose_det": [], "pose_gt": [], "per_image": []}
    totals = {"det": Tally(), "gt": Tally()}
    det_all = {"tp": 0, "gt": 0, "dets": 0}
    for dataset, group in by_dataset.items():
        t_det, t_gt = Tally(), Tally()
        ap_det, ap_gt = [], []
        tp = n_gt = n_det = 0
        for i, image in enumerate(group):
            d = det[image.name]
            ti_det, ti_gt = Tally(), Tally()
            for g, p in d["pairs"]:
                for t in (t_det, ti_det, totals["det"]):
                    t.add(d["keypoints"][p], image.persons[g])
            for g, person in enumerate(image.persons):
                for t in (t_gt, ti_gt, totals["gt"]):
                    t.add(gt_kps[image.name][g], person)
            if image.exhaustive:
                tp, n_gt, n_det = tp + len(d["pairs"]), n_gt + len(image.persons), n_det + len(d["boxes"])
                ap_det.append((i, image.persons, d["keypoints"], d["scores"]))
            else:  # unannotated people would count as false positives: only the matched detections are scored
                matched = [p for _, p in d["pairs"]]
                ap_det.append((i, image.persons, [d["keypoints"][p] for p in matched], [d["scores"][p] for p in matched]))
            gt_scores = [float(np.mean(k[:17, 2])) for k in gt_kps[image.name]]
            ap_gt.append((i, image.persons, list(gt_kps[image.name]), gt_scores))
            rows["per_image"].append((image, d, ti_det, ti_gt))
        if group[0].exhaustive:
            det_all["tp"] += tp
            det_all["gt"] += n_gt
            det_all["dets"] += n_det
            rows["detection"].append((dataset, len(group), n_gt, n_det, tp))
        rows["pose_det"].append((dataset, t_det, oks_ap_of(ap_det)))
        rows["pose_gt"].append((dataset, t_gt, oks_ap_of(ap_gt)))
    free_boxes = {name: len(det[name]["boxes"]) for name in people_free}
    return rows, totals, det_all, free_boxes


def _pct(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "–"


def _pose_row(label: str, t: Tally, ap: str) -> str:
    mean_oks = f"{np.mean(t.oks):.3f}" if t.oks else "–"
    return f"| {label} | {t.persons} | " + " | ".join(t.pck_text(p) for p in PARTS) + f" | {mean_oks} | {ap} |"


def render(args, cfg, images, rows, totals, det_all, free_boxes, speed, pose_model: str, seconds: float) -> str:
    m = machine()
    out = [
        "# Annotation accuracy against ground truth",
        "",
        f"Written by `bench/accuracy.py` ({' '.join(['--preset', args.preset] + [f'--set {s}' for s in args.set])}) "
        f"on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {m['cpu']}, {m['cores']} cores, load average "
        f"{load_avg()}; {seconds:.0f} s in all.",
        "",
        f"- Models: {provenance_line(cfg)}.",
        f"- Pose model id: `{pose_model}`.",
        f"- Photos: the {len(images)} shared photos with person ground truth (`../shared/realdata/people`, "
        f"{sum(len(i.persons) for i in images)} annotated persons) and {len(free_boxes)} photos with no people.",
        "- Path: served on 127.0.0.1, fetched, decoded, detected, person rule relaxed (0 to 1000 persons, no area "
        "or size minimum, CLIP scores off), posed, written to shards; scores read back from the shards.",
        f"- Matching: a GT person and a detection match at IoU >= {MATCH_IOU}, greedily by IoU. PCK@{PCK_THRESHOLD}: "
        "a labelled point is correct when the model gave it (score > 0) within 0.2 x the GT box's long side. "
        "OKS AP: xtcocotools COCOeval on the COCO-17 joints with COCO's sigmas; the OKS area is the COCO "
        "segmentation area where the file has one, else the GT box area (more lenient).",
        "",
        "## Keypoint definitions",
        "",
        "| dataset | joints | compared with COCO-WholeBody | not comparable |",
        "| --- | --- | --- | --- |",
    ]
    for name, d in DEFINITIONS.items():
        if name == "coco":
            continue
        extra = " + feet 6, face 68, hands 2 x 21" if name == "coco_wholebody" else ""
        rest = [n for n in d.names if n not in d.comparable()]
        out.append(f"| {name} | {len(d.names)} | {len(d.comparable())}: {', '.join(d.comparable())}{extra} | "
                   f"{', '.join(rest) or '–'} |")
    out += ["", "MPII and LV-MHP hips sit higher and wider than COCO's (a known definition gap that PCK@0.2 "
            "tolerates); head top, neck, thorax, pelvis and PoseTrack's head bottom have no COCO counterpart.",
            "", "## Detection (photos whose GT annotates every person)", "",
            "| dataset | photos | GT persons | detections | matched | recall | precision |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for dataset, n_img, n_gt, n_det, tp in rows["detection"]:
        out.append(f"| {dataset} | {n_img} | {n_gt} | {n_det} | {tp} | {_pct(tp, n_gt)} | {_pct(tp, n_det)} |")
    out.append(f"| **all** | | {det_all['gt']} | {det_all['dets']} | {det_all['tp']} | "
               f"{_pct(det_all['tp'], det_all['gt'])} | {_pct(det_all['tp'], det_all['dets'])} |")
    out += ["", f"Photos with no people: {sum(free_boxes.values())} boxes on {sum(1 for v in free_boxes.values() if v)} "
            f"of {len(free_boxes)} photos ({', '.join(f'{k} {v}' for k, v in free_boxes.items() if v) or 'none'})."]
    for title, key, tally in (("Pose on the pipeline's detections (matched persons)", "pose_det", totals["det"]),
                              ("Pose on the GT boxes (same pose stage)", "pose_gt", totals["gt"])):
        out += ["", f"## {title}", "",
                "| dataset | persons | " + " | ".join(f"{p} PCK@0.2" for p in PARTS) + " | mean OKS | OKS AP |",
                "| --- " * (len(PARTS) + 4) + "|"]
        for dataset, t, ap in rows[key]:
            out.append(_pose_row(dataset, t, ap))
        out.append(_pose_row("**all**", tally, ""))
    out += ["", "Feet, face and hands are labelled only in the COCO-WholeBody photos. The small toes have no "
            "MediaPipe counterpart and count as misses in `feet`; `big toes + heels` leaves them out. OKS AP on the "
            "pipeline's detections is low mostly because HOG finds few people (unmatched GT persons count as "
            "misses); on photos whose GT is not exhaustive only matched detections are scored.", "",
            "## Per photo", "",
            "| photo | dataset | GT persons | detections | matched | body PCK (detections) | body PCK (GT boxes) | "
            "mean OKS (GT boxes) | status |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for image, d, ti_det, ti_gt in rows["per_image"]:
        oks = f"{np.mean(ti_gt.oks):.3f}" if ti_gt.oks else "–"
        status = d["status"] + (f": {d['reason']}" if d["reason"] else "")
        out.append(f"| {image.name} | {image.dataset}{'' if image.exhaustive else ' (not exhaustive)'} | "
                   f"{len(image.persons)} | {len(d['boxes'])} | {len(d['pairs'])} | {ti_det.pck_text('body')} | "
                   f"{ti_gt.pck_text('body')} | {oks} | {status} |")
    out += ["", "## Pose stage speed (GT boxes, after a warm-up)", "",
            f"{speed['persons']} persons: {1000 * speed['cpu_s'] / speed['persons']:.1f} ms CPU and "
            f"{1000 * speed['wall_s'] / speed['persons']:.1f} ms wall per person (crop, model, mapping back), "
            "in one process.", "", "## Other presets", "", SAPIENS_NOTE, ""]
    return "\n".join(out)


def main(argv=None) -> None:
    args = parse_args(argv)
    started = time.perf_counter()
    cfg = cfgmod.resolve(args.preset, None, pipeline_run.RELAXED + pipeline_run.POSE_ONLY
                         + ["input.rows_per_task=64", *args.set])
    images = ground_truth.load(names=args.only or None)
    people_free = [n for n in ground_truth.people_free() if not args.only or n in args.only]
    work = Path(args.work)
    if work.exists():
        import shutil

        shutil.rmtree(work)
    results = pipeline_run.curate_folder(ground_truth.people_dir(), [i.name for i in images] + people_free,
                                         work / "out", cfg)
    det = detection_pass(images, results)
    for name in people_free:
        meta = results[name]["json"] or {}
        det[name] = {"boxes": [p["box"] for p in meta.get("persons", [])]}
    gt_kps, speed = gt_box_pass(images, cfg)
    rows, totals, det_all, free_boxes = score(images, people_free, det, gt_kps)
    from humanverse.stages.pose import PoseStage

    pose_model = PoseStage(cfg.pose, cfg.models_dir).model_ids()["pose"]
    text = render(args, cfg, images, rows, totals, det_all, free_boxes, speed, pose_model,
                  time.perf_counter() - started)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
