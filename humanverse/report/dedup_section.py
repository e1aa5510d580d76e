"""The report's dedup section: marks per method (from OUT/dedup/) and a contact sheet of the largest
duplicate groups, the kept sample first, each copy labelled with the method and score that marked it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from html import escape

import fsspec
import pyarrow.parquet as pq

from humanverse.report.tar_members import tar_members
from humanverse.report.thumbnails import thumbnail_uri
from humanverse.shards import atomic
from humanverse.shards.dedup_marks import marks_path, read_manifest


@dataclass
class GroupMember:
    key: str
    task_id: str
    label: str  # "kept" or "method score detail"
    thumb: str | None = None


@dataclass
class DedupView:
    manifest: dict
    by_method: dict[str, int]  # final attribution in duplicates.parquet (a sample counts once)
    groups: list[list[GroupMember]] = field(default_factory=list)
    n_groups: int = 0


def collect_dedup(output: str, groups: int = 6, per_group: int = 6) -> DedupView | None:
    manifest = read_manifest(output)
    if manifest is None:
        return None
    with fsspec.open(marks_path(output), "rb") as f:
        rows = pq.read_table(f).to_pylist()
    by_method: dict[str, int] = defaultdict(int)
    members: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        by_method[r["method"]] += 1
        members[(r["duplicate_of"], r["duplicate_of_task_id"])].append(r)
    largest = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:groups]
    shown = []
    for (kept, kept_task), dups in largest:
        group = [GroupMember(kept, kept_task, "kept")]
        group += [GroupMember(d["key"], d["task_id"], f"{d['method']} {d['score']:.3f}: {d['detail']}")
                  for d in sorted(dups, key=lambda d: -d["score"])[: per_group - 1]]
        shown.append(group)
    _attach_thumbnails(output, [m for g in shown for m in g])
    return DedupView(manifest, dict(by_method), shown, len(members))


def _attach_thumbnails(output: str, members: list[GroupMember]) -> None:
    wanted: dict[str, set[str]] = defaultdict(set)
    for m in members:
        wanted[m.task_id].add(m.key)
    images: dict[str, bytes] = {}
    for task_id, keys in wanted.items():
        for key, files in tar_members(atomic.join(output, "shards", f"{task_id}.tar"), keys):
            if "jpg" in files:
                images[key] = files["jpg"]
    for m in members:
        m.thumb = thumbnail_uri(images[m.key]) if m.key in images else None


def dedup_html(view: DedupView | None) -> str:
    if view is None:
        return ("<h2>Duplicates</h2><p class='muted'>not deduplicated yet: run <code>humanverse dedup OUT</code> "
                "(the marks go to OUT/dedup/; shards are never changed)</p>")
    man = view.manifest
    head = "<tr><th>method</th><th>marked by this method</th><th>final marks (first method wins)</th><th>parameters</th></tr>"
    body = []
    for method, info in man.get("methods", {}).items():
        params = ", ".join(f"{k}={v}" for k, v in info.get("params", {}).items())
        body.append(f"<tr><td>{escape(method)}</td><td class='n'>{info.get('marked', 0)}</td>"
                    f"<td class='n'>{view.by_method.get(method, 0)}</td><td><code>{escape(params)}</code></td></tr>")
    for method, why in man.get("skipped_methods", {}).items():
        body.append(f"<tr><td>{escape(method)}</td><td colspan='3'>skipped: {escape(why)}</td></tr>")
    summary = (f"<p class='muted'>{man.get('marked', 0)} of {man.get('samples', 0)} kept samples are marked as "
               f"duplicates ({view.n_groups} groups); readers skip them by default. Kept per group: "
               f"{escape(man.get('keep_rule', ''))}.</p>")
    sheet = []
    for group in view.groups:
        figs = "".join(
            f"<figure>{_img(m)}<figcaption><code>{escape(m.key)}</code><br>{escape(m.label)}</figcaption></figure>"
            for m in group)
        sheet.append(f"<div class='cell'><div class='panels'>{figs}</div></div>")
    groups = (f"<h3>Largest duplicate groups ({len(view.groups)} of {view.n_groups})</h3>"
              f"<div class='sheet'>{''.join(sheet)}</div>") if sheet else ""
    return f"<h2>Duplicates</h2>{summary}<table>{head}{''.join(body)}</table>{groups}"


def _img(m: GroupMember) -> str:
    if not m.thumb:
        return "<p class='muted'>(image not found)</p>"
    return f"<img class='reject' alt='{escape(m.label)} {escape(m.key)}' src='{m.thumb}'>"
