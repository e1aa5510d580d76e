"""What one sample becomes on disk: its json member and its parquet sidecar row (DESIGN §5)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from humanverse.core.sample import Sample

# Typed up front so every shard's sidecar has the same schema and all-null columns never turn into
# arrow's null type (which breaks reading a directory of sidecars as one table).
SIDECAR_SCHEMA = pa.schema(
    [
        ("key", pa.string()),
        ("task_id", pa.string()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("stage", pa.string()),
        ("transient", pa.bool_()),
        ("dataset", pa.string()),
        ("url", pa.string()),
        ("source_id", pa.string()),
        ("input", pa.string()),
        ("row", pa.int64()),
        ("caption", pa.string()),
        ("width", pa.int32()),
        ("height", pa.int32()),
        ("declared_width", pa.int32()),
        ("declared_height", pa.int32()),
        ("meta_punsafe", pa.float64()),
        ("meta_pwatermark", pa.float64()),
        ("meta_aesthetic", pa.float64()),
        ("n_persons", pa.int32()),
        ("human_area_frac", pa.float64()),
        ("max_person_area_frac", pa.float64()),
        ("min_person_area_frac", pa.float64()),
        ("aesthetic", pa.float64()),
        ("aesthetic_source", pa.string()),
        ("nsfw", pa.float64()),
        ("nsfw_source", pa.string()),
        ("outpainted", pa.bool_()),
        # The hands stage (stages/hands.py, docs/hands.md); null when it did not run or had no keypoints.
        ("n_hands_visible", pa.int32()),
        ("hand_quality_ok", pa.bool_()),
        ("members", pa.list_(pa.string())),
        # Recorded at decode for `humanverse dedup` (humanverse/dedup/fingerprint.py); null in older runs.
        # The pixel digest's column names its definition (imaging/pixel_digest.py): a run fills the one its
        # run.json records (pixel_sha256 in runs that record none) and leaves the other null.
        ("pixel_sha256", pa.string()),
        ("pixel_xxh3_128", pa.string()),
        ("phash", pa.string()),
        ("phash_mirror", pa.string()),
    ]
)
_SIDECAR_NAMES = set(SIDECAR_SCHEMA.names)


def sample_json(sample: Sample) -> dict[str, Any]:
    return _plain(
        {
            "key": sample.key,
            "source": {k: sample.source.get(k) for k in ("dataset", "url", "source_id")},
            "width": sample.width,
            "height": sample.height,
            **sample.scores,
            "persons": sample.persons,
            **sample.info,
        }
    )


def sidecar_row(sample: Sample, members: list[str]) -> dict[str, Any]:
    m, src = sample.meta, sample.source
    row: dict[str, Any] = {
        "key": sample.key,
        "task_id": sample.task_id,
        "status": sample.status,
        "reason": sample.reason,
        "stage": sample.stage,
        "transient": sample.transient,
        "dataset": _str(src.get("dataset")),
        "url": _str(src.get("url")),
        "source_id": _str(src.get("source_id")),
        "input": _str(src.get("input")),
        "row": src.get("row"),
        "caption": _str(sample.caption),
        "width": sample.width,
        "height": sample.height,
        "declared_width": _int32(m.get("width")),
        "declared_height": _int32(m.get("height")),
        "meta_punsafe": _float(m.get("punsafe")),
        "meta_pwatermark": _float(m.get("pwatermark")),
        "meta_aesthetic": _float(m.get("aesthetic")),
        "outpainted": bool(sample.info.get("outpaint", {}).get("applied", False)),
        "members": members,
    }
    for name, value in sample.scores.items():
        if name in _SIDECAR_NAMES:
            row[name] = value
    return row


def sidecar_table(rows: list[dict[str, Any]], extra: list[dict[str, Any]]) -> pa.Table:
    """The typed base columns plus per-stage extra columns (e.g. clip_embedding), inferred."""
    table = pa.Table.from_pylist(rows, schema=SIDECAR_SCHEMA)
    names = sorted({k for e in extra for k in e})
    for name in names:
        values = [e.get(name) for e in extra]
        arrays = [v for v in values if isinstance(v, np.ndarray)]
        if arrays:  # e.g. clip_embedding: keep its dtype (float16) instead of widening to double
            table = table.append_column(name, pa.array(values, type=pa.list_(pa.from_numpy_dtype(arrays[0].dtype))))
        else:
            table = table.append_column(name, pa.array([_plain(v) for v in values]))
    return table


_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


def _int32(v) -> int | None:
    """A declared size as int32, or None for anything else (3e9, 2**62, NaN, inf, '12px', a list)."""
    if v is None or isinstance(v, bool):
        return None
    try:
        number = int(v)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if _INT32_MIN <= number <= _INT32_MAX else None


def _float(v) -> float | None:
    try:
        return None if v is None or isinstance(v, bool) else float(v)
    except (TypeError, ValueError, OverflowError):
        return None


def _str(v) -> str | None:
    """Readers hand over str or None; anything else (a bug upstream) is written as text, not a crash."""
    if v is None:
        return None
    if isinstance(v, str):
        return v if v.isascii() else v.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    if isinstance(v, (bytes, bytearray)):
        return bytes(v).decode("utf-8", "replace")
    return str(v)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays to JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
