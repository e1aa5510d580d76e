"""Built-in column maps from LAION / Re-LAION / COYO parquet columns to our canonical metadata names.

Canonical names are what filters read (sample.meta): url, caption, source_id, width, height, punsafe,
pwatermark, aesthetic (LAION improved predictor, 1-10 scale), nsfw_label, nsfw_opennsfw2, clip_similarity,
license, num_faces. Scales differ between datasets, so only like-for-like scores share a name.
"""

from __future__ import annotations

# canonical name -> candidate source columns, first present wins
LAION: dict[str, tuple[str, ...]] = {
    "url": ("URL", "url"),
    "caption": ("TEXT", "caption", "text"),
    "source_id": ("SAMPLE_ID", "key", "hash"),
    "width": ("WIDTH", "width"),
    "height": ("HEIGHT", "height"),
    "punsafe": ("punsafe",),
    "pwatermark": ("pwatermark",),
    "aesthetic": ("AESTHETIC_SCORE", "aesthetic", "aesthetic_score"),
    "nsfw_label": ("NSFW",),
    "clip_similarity": ("similarity",),
    "license": ("LICENSE",),
}

COYO: dict[str, tuple[str, ...]] = {
    "url": ("url",),
    "caption": ("text",),
    "source_id": ("id",),
    "width": ("width",),
    "height": ("height",),
    # COYO's watermark model is not LAION's, but both give a watermark probability in [0, 1].
    "pwatermark": ("watermark_score",),
    # COYO ships the same LAION improved aesthetic predictor (v2), so it shares the 1-10 scale.
    "aesthetic": ("aesthetic_score_laion_v2",),
    # OpenNSFW2 is a different model from LAION's CLIP NSFW detector: kept under its own name.
    "nsfw_opennsfw2": ("nsfw_score_opennsfw2",),
    "clip_similarity": ("clip_similarity_vitl14",),
    "num_faces": ("num_faces",),
}

BUILTIN = {"laion": LAION, "coyo": COYO}


def resolve(columns: list[str], fmt: str, user_map: dict[str, str]) -> dict[str, str]:
    """canonical -> actual column for this file. User entries override built-ins and must exist."""
    present = set(columns)
    resolved: dict[str, str] = {}
    for canonical, candidates in BUILTIN[fmt].items():
        for c in candidates:
            if c in present:
                resolved[canonical] = c
                break
    for canonical, column in user_map.items():
        if column not in present:
            raise ValueError(f"input.column_map.{canonical}: column {column!r} is not in the file (has {sorted(present)})")
        resolved[canonical] = column
    if "url" not in resolved:
        raise ValueError(
            f"no URL column found for format {fmt!r} (columns: {sorted(present)}); name the column that holds "
            "the URLs with input.column_map.url (in the config, or --set input.column_map.url=COLUMN)"
        )
    return resolved


def guess_format(columns: list[str]) -> str:
    """coyo when COYO's distinctive columns are there, else laion (upper- or lower-case URL)."""
    cols = set(columns)
    if {"aesthetic_score_laion_v2", "nsfw_score_opennsfw2", "image_phash"} & cols or {"id", "url", "text"} <= cols:
        return "coyo"
    return "laion"
