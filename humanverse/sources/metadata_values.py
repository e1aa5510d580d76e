"""Typing the untrusted metadata cells of input rows (LAION/COYO parquet columns, img2dataset json).

A column's declared type says nothing about what a row holds: WIDTH may be a float 3e9 or 2**62, a URL
column may hold ints, lists, structs or non-UTF-8 binary, a caption may be bytes. One such cell used to
fail its whole task (and, every rerun, the run). Here each cell is checked against the kind its canonical
name needs and becomes either a clean Python value or None plus a problem that names it:

- a URL that is not text becomes the row's error, `bad_metadata:<column>` (there is nothing to fetch);
- any other bad cell is nulled, and the row's json records `metadata_problems: {column: problem}`.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from typing import Any

TEXT = "text"
INT = "int"
FLOAT = "float"

KIND: dict[str, str] = {
    "url": TEXT,
    "caption": TEXT,
    "source_id": TEXT,
    "license": TEXT,
    "nsfw_label": TEXT,
    "width": INT,
    "height": INT,
    "num_faces": INT,
    "punsafe": FLOAT,
    "pwatermark": FLOAT,
    "aesthetic": FLOAT,
    "nsfw_opennsfw2": FLOAT,
    "clip_similarity": FLOAT,
}
"""Canonical name -> kind; names not listed are treated as float scores."""

MAX_DECLARED_SIDE = 2**31 - 1  # the sidecar's int32 columns
MAX_TEXT_CHARS = 64 * 1024
"""A text cell or caption (parquet cell, tar .txt) is cut to this many characters; a URL that long fails its
row. The same order as a folder's caption file cap (64 KiB)."""


def clean_cell(canonical: str, value: Any) -> tuple[Any, str | None]:
    """(clean value or None, problem or None). NaN counts as missing (pandas writes it for nulls)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    kind = KIND.get(canonical, FLOAT)
    if kind == TEXT:
        return _text(value, strict=canonical == "url")
    if kind == INT:
        return _int(value)
    return _float(value)


def clean_text(value: Any) -> str:
    """Any text that must be valid UTF-8 on the way out: lone surrogates (from JSON escapes) become '?'."""
    return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")


def _text(value: Any, strict: bool) -> tuple[str | None, str | None]:
    if isinstance(value, str):
        return clean_text(value), None
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError:
            if strict:
                return None, "not_utf8"
            return raw.decode("utf-8", "replace"), "decoded_with_replacement"
    if not strict and isinstance(value, numbers.Number) and not isinstance(value, bool):
        return str(value), None  # numeric ids (SAMPLE_ID is an int64)
    return None, f"not_text:{type(value).__name__}"


def clean_row(mapping: dict[str, str], row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """canonical -> clean value for every mapped column, and source column -> problem for the bad ones."""
    values, problems = {}, {}
    for canonical, column in mapping.items():
        values[canonical], problem = clean_cell(canonical, row.get(column))
        if problem is not None:
            problems[column] = problem
    return values, problems


def _real(value: Any) -> Any:
    """Decimal is a numbers.Number but not a numbers.Real; as a float it is one (or inf / NaN)."""
    if isinstance(value, Decimal):
        try:
            return float(value)
        except ValueError:  # signalling NaN
            return math.nan
    return value


def _int(value: Any) -> tuple[int | None, str | None]:
    value = _real(value)
    if isinstance(value, float) and math.isnan(value):
        return None, None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, f"not_a_number:{type(value).__name__}"
    if isinstance(value, numbers.Integral):
        number = int(value)
    else:
        as_float = float(value)
        if not math.isfinite(as_float):
            return None, "out_of_range"
        if not as_float.is_integer():
            return None, "not_an_integer"
        number = int(as_float)
    if not 0 <= number <= MAX_DECLARED_SIDE:
        return None, "out_of_range"
    return number, None


def _float(value: Any) -> tuple[float | None, str | None]:
    value = _real(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, f"not_a_number:{type(value).__name__}"
    try:
        number = float(value)
    except (OverflowError, ValueError):
        return None, "out_of_range"
    if math.isnan(number):
        return None, None
    if not math.isfinite(number):
        return None, "out_of_range"
    return number, None
