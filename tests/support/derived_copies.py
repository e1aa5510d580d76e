"""Copies of the shared kit's photos as they show up on the web, derived at run time (the photos are never
copied into the repo), and what the dedup pass would see of each: the fingerprints of the pixels curation
stores, through the production decoder.

Used by tests/dedup/test_kit_copies.py (bounds) and bench/dedup_kit.py (the full numbers).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from humanverse.dedup.fingerprint import fingerprints
from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.imaging.pixel_digest import COLUMNS, CURRENT
from tests.support.realdata import PEOPLE

KIT = PEOPLE
HARD_PAIR = ("mmpose_rtmpose_human-pose.jpeg", "coco_000000000785.jpg")  # a real 28% crop, not derived
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif"}


def _jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


def _resized(rgb):
    im = Image.fromarray(rgb)
    return _jpeg(np.asarray(im.resize((max(1, im.width // 2), max(1, im.height // 2)), Image.Resampling.LANCZOS)))


def _crop10(rgb):
    """10% of the width and of the height cut off, unevenly (6/4 and 3/7 per cent)."""
    h, w = rgb.shape[:2]
    return _jpeg(rgb[int(0.03 * h): h - int(0.07 * h), int(0.06 * w): w - int(0.04 * w)])


def _mirrored(rgb):
    return _jpeg(np.ascontiguousarray(rgb[:, ::-1]))


def _watermark(rgb):
    """A stock-photo strip: a 75%-opaque white band over the bottom 12% with black text."""
    im = Image.fromarray(rgb).convert("RGBA")
    band = Image.new("RGBA", im.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(band)
    top = int(im.height * 0.88)
    draw.rectangle([0, top, im.width, im.height], fill=(255, 255, 255, 190))
    draw.text((8, top + 2), "(c) stockphotos.example  #48213", fill=(0, 0, 0, 255))
    return _jpeg(np.asarray(Image.alpha_composite(im, band).convert("RGB")))


# name -> (how the copy is made from the original's upright pixels and bytes, what a good method catches)
DERIVATIONS = {
    "url_variant": lambda rgb, data: data,                 # same bytes, the URL with tracking and case noise
    "rehosted": lambda rgb, data: data,                    # same bytes, another URL
    "lossless_png": lambda rgb, data: _png(rgb),           # same pixels, other bytes
    "resized_50pct": lambda rgb, data: _resized(rgb),
    "jpeg_q20": lambda rgb, data: _jpeg(rgb, 20),
    "crop_10pct": lambda rgb, data: _crop10(rgb),
    "mirrored": lambda rgb, data: _mirrored(rgb),
    "watermark_strip": lambda rgb, data: _watermark(rgb),
}


@dataclass
class KitItem:
    name: str          # e.g. "coco_000000000785.jpg" or "coco_000000000785.jpg~mirrored"
    origin: str        # the kit photo it came from
    derivation: str    # "original" or a DERIVATIONS name
    url: str
    width: int
    height: int
    prints: dict[str, str]


def stored_fingerprints(data: bytes) -> tuple[dict[str, str], int, int] | None:
    """What curation records for these bytes: the production decoder's upright pixels, fingerprinted."""
    decoded, _ = decode_image(data, DecodeConfig())
    if decoded is None:
        return None
    return fingerprints(decoded.rgb, CURRENT), decoded.width, decoded.height


def kit_photos() -> list[Path]:
    return sorted(p for p in KIT.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def build_items(photos: list[Path] | None = None, derivations: dict | None = None) -> list[KitItem]:
    items = []
    for path in photos or kit_photos():
        data = path.read_bytes()
        first = stored_fingerprints(data)
        if first is None:
            continue
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
        prints, w, h = first
        url = f"http://photos.example/{path.name}"
        items.append(KitItem(path.name, path.name, "original", url, w, h, prints))
        for name, make in (derivations or DERIVATIONS).items():
            stored = stored_fingerprints(make(rgb, data))
            if stored is None:
                continue
            copy_url = (f"HTTP://Photos.EXAMPLE:80/{path.name}?utm_source=feed&fbclid=x1" if name == "url_variant"
                        else f"http://mirror{len(name)}.example/{name}/{path.name}")
            items.append(KitItem(f"{path.name}~{name}", path.name, name, copy_url, stored[1], stored[2], stored[0]))
    return items


def features_table(items: list[KitItem]):
    """The dedup pass's per-sample features for these items (FEATURE_SCHEMA), one fake shard."""
    import pyarrow as pa

    from humanverse.dedup.features import FEATURE_SCHEMA
    from humanverse.dedup.urls import normalize_url

    return pa.Table.from_pydict({
        "key": [f"{i:09d}" for i in range(len(items))], "task_id": ["kit"] * len(items),
        "url": [it.url for it in items], "url_key": [normalize_url(it.url) for it in items],
        **{name: [it.prints.get(name) for it in items] for name in COLUMNS}, "phash": [it.prints["phash"] for it in items],
        "phash_mirror": [it.prints["phash_mirror"] for it in items], "fingerprint_source": ["curate"] * len(items),
        "aesthetic": [None] * len(items), "width": [it.width for it in items], "height": [it.height for it in items],
    }, schema=FEATURE_SCHEMA)


def evaluate(items: list[KitItem], cfg=None) -> dict:
    """Per method: recall per derivation (the copy ends in its original's group), false pairs (a mark
    joining two different kit photos, the hard real pair aside), and whether the hard pair was found."""
    from humanverse.dedup.config import DedupConfig
    from humanverse.dedup.executor import LocalExecutor
    from humanverse.dedup.marking import resolve
    from humanverse.dedup.exact import exact_matches
    from humanverse.dedup.perceptual import perceptual_matches
    from humanverse.dedup.ranking import keep_rank

    cfg = cfg or DedupConfig()
    table = features_table(items)
    keys = table.column("key").to_pylist()
    rank = keep_rank(keys, np.full(len(items), np.nan), table.column("width").to_numpy(),
                     table.column("height").to_numpy())
    found = {"exact": exact_matches(table, rank, cfg), "perceptual": perceptual_matches(LocalExecutor(), table, rank, cfg)}
    index = {it.name: i for i, it in enumerate(items)}
    out = {}
    for method, m in found.items():
        dup_of = resolve(m.matched)
        root = np.where(dup_of >= 0, dup_of, np.arange(len(items)))
        recall = {}
        for name in DERIVATIONS:
            copies = [i for i, it in enumerate(items) if it.derivation == name]
            hits = sum(root[i] == root[index[items[i].origin]] for i in copies)
            recall[name] = (hits, len(copies))
        false_pairs = []
        for i in np.flatnonzero(m.matched >= 0):
            a, b = items[i].origin, items[m.matched[i]].origin
            if a != b and {a, b} != set(HARD_PAIR):
                false_pairs.append((items[i].name, items[m.matched[i]].name, m.detail[i]))
        hard = [index.get(HARD_PAIR[0]), index.get(HARD_PAIR[1])]
        hard_found = None if None in hard else bool(root[hard[0]] == root[hard[1]])
        out[method] = {"recall": recall, "false_pairs": false_pairs, "hard_pair_found": hard_found,
                       "marked": m.n_marked}
    return out


def hamming_to_original(items: list[KitItem]) -> dict[str, list[int]]:
    """pHash distance of each copy to its original (the smaller of direct and mirrored), per derivation."""
    originals = {it.origin: int(it.prints["phash"], 16) for it in items if it.derivation == "original"}
    out: dict[str, list[int]] = {}
    for it in items:
        if it.derivation == "original":
            continue
        d = min(bin(int(it.prints[f], 16) ^ originals[it.origin]).count("1") for f in ("phash", "phash_mirror"))
        out.setdefault(it.derivation, []).append(d)
    return out
