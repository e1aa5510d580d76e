"""Recall and false positives of exact and perceptual dedup on copies of the shared kit's real photos.

    .venv/bin/python bench/dedup_kit.py            # ~1 min; writes bench/.out/dedup_kit.json, prints markdown

Every kit photo (../shared/realdata/people, read in place, never copied) gets the copies of
tests/support/derived_copies.py: the same bytes under a URL with tracking noise, the same bytes re-hosted,
a lossless PNG, resized to 50%, JPEG quality 20, 10% cropped, mirrored, and a watermark strip. Each goes
through the production decoder and fingerprinting, then the pass's own exact and perceptual matching.
Recall: the copy ends in its original's group. False pair: a mark that joins two different kit photos
(45 photos: 990 unrelated pairs). The real hard pair (mmpose_rtmpose_human-pose.jpeg, a 28% crop of
coco_000000000785.jpg) is reported apart and was not used to choose anything.
"""

from __future__ import annotations

import json
import sys
import time

from common import OUT, REPO, load_avg


def main() -> None:
    sys.path.insert(0, str(REPO))
    from humanverse.dedup.config import DedupConfig
    from tests.support.derived_copies import DERIVATIONS, build_items, evaluate, hamming_to_original, kit_photos

    t0 = time.perf_counter()
    photos = kit_photos()
    items = build_items(photos)
    build_s = time.perf_counter() - t0
    configs = {
        "exact (url only)": {"exact": {"pixels": False}},
        "exact (pixels only)": {"exact": {"url": False}},
        "exact (default: both)": {},
        **{f"perceptual d<={d}{' (default)' if d == DedupConfig().perceptual.max_distance else ''}":
           {"perceptual": {"max_distance": d}} for d in (6, 8, 10, 12)},
        "perceptual d<=10, no mirror hash": {"perceptual": {"mirror": False}},
    }
    rows = {}
    for label, overrides in configs.items():
        result = evaluate(items, DedupConfig.model_validate(overrides))
        rows[label] = result["exact" if label.startswith("exact") else "perceptual"]
    distances = hamming_to_original(items)
    record = {"photos": len(photos), "items": len(items), "build_s": build_s, "load_avg": load_avg(),
              "results": rows, "phash_distance_to_original": distances}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dedup_kit.json").write_text(json.dumps(record, indent=1, default=int))

    names = list(DERIVATIONS)
    print(f"| method | {' | '.join(names)} | false pairs | hard pair |")
    print("|" + " --- |" * (len(names) + 3))
    for label, r in rows.items():
        cells = [f"{int(r['recall'][n][0])}/{r['recall'][n][1]}" for n in names]
        print(f"| {label} | {' | '.join(cells)} | {len(r['false_pairs'])} | {'found' if r['hard_pair_found'] else 'missed'} |")
    print()
    for name, ds in distances.items():
        ds = sorted(ds)
        print(f"- {name}: pHash distance to original median {ds[len(ds) // 2]}, max {ds[-1]}")


if __name__ == "__main__":
    main()
