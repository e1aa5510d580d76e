"""A small self-contained HTML page: per sample, the condition pose, the generated image and the real one."""

from __future__ import annotations

import html
import json

import numpy as np

from humanverse.report.thumbnails import jpeg_data_uri

THUMB = 192


def render_grid(rows: list[dict], metrics: dict, title: str = "humanverse eval") -> str:
    """rows: {key, caption, condition, generated, real} with RGB uint8 images."""
    from PIL import Image

    def cell(image: np.ndarray) -> str:
        thumb = np.asarray(Image.fromarray(image).resize((THUMB, THUMB), Image.Resampling.LANCZOS))
        return f'<td><img src="{jpeg_data_uri(thumb)}" width="{THUMB}" height="{THUMB}"></td>'

    body = "".join(
        f"<tr>{cell(r['condition'])}{cell(r['generated'])}{cell(r['real'])}"
        f"<td class=c><b>{html.escape(r['key'])}</b><br>{html.escape(r['caption'])}</td></tr>"
        for r in rows
    )
    summary = html.escape(json.dumps({k: v for k, v in metrics.items() if k != "samples"}, indent=1, default=str))
    return (
        "<!doctype html><html><head><meta charset=utf-8><title>" + html.escape(title) + "</title><style>"
        "body{font-family:sans-serif;margin:1em}td{vertical-align:top;padding:2px}td.c{max-width:24em;font-size:13px}"
        "pre{background:#f4f4f4;padding:.5em}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><pre>{summary}</pre>"
        "<table><tr><th>condition</th><th>generated</th><th>real</th><th>caption</th></tr>" + body + "</table></body></html>"
    )
