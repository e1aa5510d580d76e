"""Ground-truth accuracy of the pipeline's person boxes and whole-body keypoints -> bench/ACCURACY.md.

One command:
    .venv/bin/python bench/accuracy.py                       # the demo preset (BlazePose detector + MediaPipe pose; HOG beside it)
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
from humanverse.accuracy.rule_agreement import Agreement, rule_keeps  # noqa: E402
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
MIN_RECALL_AREA = 0.05
"""Recall is also given on the annotated persons covering at least this share of the photo (issue 27's target)."""


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="demo")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    p.add_argument("--out", default=str(BENCH / "ACCURACY.md"))
    p.add_argument("--work", default=str(OUT / "accuracy"), help="scratch folder for the curated shards")
    p.add_argument("--compare", action="append", default=None, metavar="'SECTION.KEY=VALUE ...'",
                   help="detection only, once more with these space-separated settings, as a comparison row "
                        "(repeatable; default: the former demo detector, 'detect.backend=hog detect.conf=0.3 "
                        "detect.imgsz=640', unless the preset already uses HOG; 'none' for no comparison)")
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
                           "size": (meta.get("width") or image.width, meta.get("height") or image.height),
                           "keypoints": kps, "scores": [float(p.get("score", 1.0)) for p in persons]}
    return out


def free_pass(people_free, results):
    """Per people-free photo: the boxes found there (every one a false positive) and the decoded size."""
    out = {}
    for name in people_free:
        meta = results[name]["json"] or {}
        if meta.get("width"):
            size = (meta["width"], meta["height"])
        else:
            from PIL import Image

            with Image.open(ground_truth.people_dir() / name) as im:
                size = im.size
        out[name] = {"boxes": [p["box"] for p in meta.get("persons", [])], "pairs": [], "size": size,
                     "status": results[name]["status"], "reason": results[name]["reason"]}
    return out


def big_persons(image) -> set[int]:
    """Indices of the GT persons covering at least MIN_RECALL_AREA of the photo."""
    area = float(image.width * image.height)
    return {i for i, p in enumerate(image.persons) if (p.box[2] - p.box[0]) * (p.box[3] - p.box[1]) / area >= MIN_RECALL_AREA}


def detection_summary(images, people_free, det, rule) -> dict:
    """Detection counts per dataset (exhaustive photos), boxes on people-free photos, and person-rule agreement
    (exhaustive + people-free photos) with the keep / reject decision of each photo."""
    per_dataset: dict[str, dict[str, int]] = {}
    agreement, decisions = Agreement(), {}
    for image in images:
        if not image.exhaustive:
            continue
        d = det[image.name]
        big = big_persons(image)
        c = per_dataset.setdefault(image.dataset, {"photos": 0, "gt": 0, "big": 0, "dets": 0, "tp": 0, "big_tp": 0})
        c["photos"] += 1
        c["gt"] += len(image.persons)
        c["big"] += len(big)
        c["dets"] += len(d["boxes"])
        c["tp"] += len(d["pairs"])
        c["big_tp"] += sum(1 for g, _ in d["pairs"] if g in big)
        w, h = d["size"]
        gt_keep = rule_keeps(rule, [p.box for p in image.persons], image.width, image.height)
        keep = rule_keeps(rule, d["boxes"], w, h)
        agreement.add(gt_keep, keep)
        decisions[image.name] = (gt_keep, keep)
    for name in people_free:
        w, h = det[name]["size"]
        keep = rule_keeps(rule, det[name]["boxes"], w, h)
        agreement.add(False, keep)
        decisions[name] = (False, keep)
    total = {k: sum(c[k] for c in per_dataset.values()) for k in ("photos", "gt", "big", "dets", "tp", "big_tp")}
    free = {name: len(det[name]["boxes"]) for name in people_free}
    return {"per_dataset": per_dataset, "all": total, "free": free, "agreement": agreement, "decisions": decisions}


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


def score(images, det, gt_kps):
    by_dataset = defaultdict(list)
    for image in images:
        by_dataset[image.dataset].append(image)
    rows = {"pose_det": [], "pose_gt": [], "per_image": []}
    totals = {"det": Tally(), "gt": Tally()}
    for dataset, group in by_dataset.items():
        t_det, t_gt = Tally(), Tally()
        ap_det, ap_gt = [], []
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
                ap_det.append((i, image.persons, d["keypoints"], d["scores"]))
            else:  # unannotated people would count as false positives: only the matched detections are scored
                matched = [p for _, p in d["pairs"]]
                ap_det.append((i, image.persons, [d["keypoints"][p] for p in matched], [d["scores"][p] for p in matched]))
            gt_scores = [float(np.mean(k[:17, 2])) for k in gt_kps[image.name]]
            ap_gt.append((i, image.persons, list(gt_kps[image.name]), gt_scores))
            rows["per_image"].append((image, d, ti_det, ti_gt))
        rows["pose_det"].append((dataset, t_det, oks_ap_of(ap_det)))
        rows["pose_gt"].append((dataset, t_gt, oks_ap_of(ap_gt)))
    return rows, totals


def _pct(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "–"


def _pose_row(label: str, t: Tally, ap: str) -> str:
    mean_oks = f"{np.mean(t.oks):.3f}" if t.oks else "–"
    return f"| {label} | {t.persons} | " + " | ".join(t.pck_text(p) for p in PARTS) + f" | {mean_oks} | {ap} |"


def _keep(flag: bool) -> str:
    return "keep" if flag else "reject"


def detection_section(summaries, rule) -> list[str]:
    """The detection tables: one row per detector (the preset's first, then the comparisons), the preset's
    detector per dataset, and the person-rule agreement."""
    out = ["| detector | GT persons | detections | matched | recall | recall, persons >= 5% of the photo | precision | "
           "boxes on people-free photos | person-rule agreement | finds-nobody baseline | kept where the rule keeps |",
           "| --- " * 11 + "|"]
    for label, s in summaries:
        a, t = s["agreement"], s["all"]
        free = s["free"]
        out.append(f"| {label} | {t['gt']} | {t['dets']} | {t['tp']} | {_pct(t['tp'], t['gt'])} | "
                   f"{_pct(t['big_tp'], t['big'])} | {_pct(t['tp'], t['dets'])} | {sum(free.values())} on "
                   f"{sum(1 for v in free.values() if v)} of {len(free)} | {_pct(a.agree, a.photos)} | "
                   f"{_pct(a.gt_rejects, a.photos)} | {_pct(a.kept_of_gt_keeps, a.gt_keeps)} |")
    label, main = summaries[0]
    out += ["", f"Per dataset ({label}):", "",
            "| dataset | photos | GT persons | persons >= 5% | detections | matched | recall | recall >= 5% | precision |",
            "| --- " * 9 + "|"]
    for dataset, c in main["per_dataset"].items():
        out.append(f"| {dataset} | {c['photos']} | {c['gt']} | {c['big']} | {c['dets']} | {c['tp']} | "
                   f"{_pct(c['tp'], c['gt'])} | {_pct(c['big_tp'], c['big'])} | {_pct(c['tp'], c['dets'])} |")
    free = main["free"]
    out += ["", f"Photos with no people ({label}): {sum(free.values())} boxes on {sum(1 for v in free.values() if v)} "
            f"of {len(free)} photos ({', '.join(f'{k} {v}' for k, v in free.items() if v) or 'none'}).", "",
            f"Person-rule agreement: on every photo whose GT annotates every person, plus the people-free ones "
            f"({main['agreement'].photos} photos), the preset's own person rule ({rule.min_persons}-{rule.max_persons} "
            f"persons, {rule.area_rule} area >= {rule.min_area_frac}) is applied once to the GT boxes and once to the "
            "pipeline's boxes; a photo agrees when both keep or both reject it. The rule counts every annotated "
            "person, however small, so a crowd whose small people the detector misses is a wrong keep. "
            "'Finds-nobody baseline' is the agreement of a detector that finds nobody (it rejects every photo); "
            "'kept where the rule keeps' is the keep rate on the photos the rule keeps on the GT."]
    return out


def render(args, cfg, images, rows, totals, summaries, rule, speed, pose_model: str, seconds: float) -> str:
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
        f"{sum(len(i.persons) for i in images)} annotated persons) and {len(summaries[0][1]['free'])} photos with no "
        "people. Research-only or non-commercial pictures (marked † below; realdata/MANIFEST.md) are scored here "
        "and never copied into the repository; 3 of the 4 COCO photos are CC BY-NC(-ND/-SA) Flickr photos.",
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
            "", "## Detection (photos whose GT annotates every person)", ""]
    out += detection_section(summaries, rule)
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
            "pipeline's detections counts unmatched GT persons as misses, so it is capped by the detector's recall; "
            "on photos whose GT is not exhaustive only matched detections are scored.", "",
            "## Per photo", "",
            f"† research-only or non-commercial (realdata/MANIFEST.md). Person rule: the preset's rule on the GT "
            f"boxes -> on the pipeline's boxes (exhaustive and people-free photos only). Detections of the "
            f"comparison rows: {', '.join(label for label, _ in summaries[1:]) or 'none'}.", "",
            "| photo | dataset | GT persons (>= 5%) | detections | matched | comparison detections (matched) | "
            "person rule | body PCK (detections) | body PCK (GT boxes) | mean OKS (GT boxes) | status |",
            "| --- " * 11 + "|"]
    main_decisions = summaries[0][1]["decisions"]
    for image, d, ti_det, ti_gt in rows["per_image"]:
        oks = f"{np.mean(ti_gt.oks):.3f}" if ti_gt.oks else "–"
        status = d["status"] + (f": {d['reason']}" if d["reason"] else "")
        mark = " †" if ground_truth.research_only(image.name) else ""
        others = ", ".join(f"{len(s['det'][image.name]['boxes'])} ({len(s['det'][image.name]['pairs'])})"
                           for _, s in summaries[1:]) or "–"
        decision = main_decisions.get(image.name)
        rule_text = f"{_keep(decision[0])} -> {_keep(decision[1])}" if decision else "–"
        out.append(f"| {image.name}{mark} | {image.dataset}{'' if image.exhaustive else ' (not exhaustive)'} | "
                   f"{len(image.persons)} ({len(big_persons(image))}) | {len(d['boxes'])} | {len(d['pairs'])} | "
                   f"{others} | {rule_text} | {ti_det.pck_text('body')} | {ti_gt.pck_text('body')} | {oks} | {status} |")
    for name, n in summaries[0][1]["free"].items():
        others = ", ".join(str(s["free"][name]) for _, s in summaries[1:]) or "–"
        gt_keep, keep = main_decisions[name]
        out.append(f"| {name} | people-free | 0 | {n} | – | {others} | {_keep(gt_keep)} -> {_keep(keep)} | – | – | – | "
                   f"{summaries[0][1]['det'][name]['status']} |")
    out += ["", "## Pose stage speed (GT boxes, after a warm-up)", "",
            f"{speed['persons']} persons: {1000 * speed['cpu_s'] / speed['persons']:.1f} ms CPU and "
            f"{1000 * speed['wall_s'] / speed['persons']:.1f} ms wall per person (crop, model, mapping back), "
            "in one process.", "", "## Other presets", "", SAPIENS_NOTE, ""]
    return "\n".join(out)


def detector_label(cfg) -> str:
    d = cfg.detect
    name = {"hog": "OpenCV HOG", "blazepose": "MediaPipe BlazePose (+ face proposals)"}.get(d.backend, f"ultralytics {d.weights}")
    return f"{name}, conf {d.conf}"


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
    det = detection_pass(images, results) | free_pass(people_free, results)
    rule = cfgmod.resolve(args.preset, None, args.set).person  # the preset's own rule, not the relaxed one
    summaries = [(detector_label(cfg), detection_summary(images, people_free, det, rule) | {"det": det})]
    compare = args.compare if args.compare is not None else (
        [] if cfg.detect.backend == "hog" else ["detect.backend=hog detect.conf=0.3 detect.imgsz=640"])
    for settings in (c for c in compare if c != "none"):
        other = cfgmod.resolve(args.preset, None, pipeline_run.RELAXED + pipeline_run.POSE_ONLY
                               + ["input.rows_per_task=64", "pose=null", "hands=null", *args.set, *settings.split()])
        res = pipeline_run.curate_folder(ground_truth.people_dir(), [i.name for i in images] + people_free,
                                         work / f"compare-{len(summaries)}", other)
        d = detection_pass(images, res) | free_pass(people_free, res)
        summaries.append((detector_label(other), detection_summary(images, people_free, d, rule) | {"det": d}))
    gt_kps, speed = gt_box_pass(images, cfg)
    rows, totals = score(images, det, gt_kps)
    from humanverse.stages.pose import PoseStage

    pose_model = PoseStage(cfg.pose, cfg.models_dir).model_ids()["pose"]
    text = render(args, cfg, images, rows, totals, summaries, rule, speed, pose_model, time.perf_counter() - started)
    Path(args.out).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
