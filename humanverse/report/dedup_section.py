"""The report's dedup section: marks per method (from OUT/dedup/) and a contact sheet of the largest
duplicate groups, the kept sample first, each copy labelled with the method and score that marked it.

OUT/dedup/ may come from others: every value of the manifest and the marks is escaped in the HTML (numbers
included: a "count" may be a string), and a mark's key and task id must pass the id checks before a task id
names a tar (humanverse/shards/untrusted.py); marks that fail are left out and counted."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html import escape

import fsspec
import pyarrow.parquet as pq

from humanverse.report.thumbnails import thumbnail_uri
from humanverse.shards import atomic
from humanverse.shards.dedup_marks import marks_path, read_manifest
from humanverse.shards.untrusted import BadSample, tar_members
from humanverse.sources.keys import check_key, check_task_id


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


def collect_dedup(output: str, groups: int = 6, per_group: int = 6, skipped: Counter | None = None) -> DedupView | None:
    skipped = skipped if skipped is not None else Counter()
    try:
        manifest = read_manifest(output)
        if manifest is None:
            return None
        with fsspec.open(marks_path(output), "rb") as f:
            rows = pq.read_table(f, columns=_MARK_COLUMNS).to_pylist()
    except (BadSample, OSError, ValueError, KeyError) as exc:  # pyarrow's errors are OSError / ValueError
        skipped["unreadable_dedup"] += 1
        return DedupView({"unreadable": str(exc)}, {})
    by_method: dict[str, int] = defaultdict(int)
    members: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in rows:
        if not _valid_mark(r):
            skipped["bad_dedup_mark"] += 1
            continue
        by_method[str(r["method"])] += 1
        members[(r["duplicate_of"], r["duplicate_of_task_id"])].append(r)
    largest = sorted(members.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:groups]
    shown = []
    for (kept, kept_task), dups in largest:
        group = [GroupMember(kept, kept_task, "kept")]
        group += [GroupMember(d["key"], d["task_id"], f"{d['method']} {_score(d['score'])}: {d['detail']}")
                  for d in sorted(dups, key=lambda d: -(d["score"] or 0.0))[: per_group - 1]]
        shown.append(group)
    _attach_thumbnails(output, [m for g in shown for m in g], skipped)
    return DedupView(manifest, dict(by_method), shown, len(members))


_MARK_COLUMNS = ["key", "task_id", "duplicate_of", "duplicate_of_task_id", "method", "score", "detail"]


def _valid_mark(row: dict) -> bool:
    try:
        check_key(row["key"]), check_key(row["duplicate_of"])
        check_task_id(row["task_id"]), check_task_id(row["duplicate_of_task_id"])
    except ValueError:
        return False
    return row["score"] is None or isinstance(row["score"], (int, float))


def _score(score) -> str:
    return "–" if score is None else f"{score:.3f}"


def _attach_thumbnails(output: str, members: list[GroupMember], skipped: Counter) -> None:
    wanted: dict[str, set[str]] = defaultdict(set)
    for m in members:
        wanted[m.task_id].add(m.key)
    images: dict[str, bytes] = {}
    for task_id, keys in wanted.items():
        for key, files in tar_members(atomic.join(output, "shards", f"{task_id}.tar"), keys, tally=skipped):
            if "jpg" in files:
                images[key] = files["jpg"]
    for m in members:
        m.thumb = thumbnail_uri(images[m.key]) if m.key in images else None


def dedup_html(view: DedupView | None) -> str:
    if view is None:
        return ("<h2>Duplicates</h2><p class='muted'>not deduplicated yet: run <code>humanverse dedup OUT</code> "
                "(the marks go to OUT/dedup/; shards are never changed)</p>")
    man = view.manifest
    if "unreadable" in man:
        return f"<h2>Duplicates</h2><p class='muted'>OUT/dedup/ is unreadable: {_e(man['unreadable'])}</p>"
    head = "<tr><th>method</th><th>marked by this method</th><th>final marks (first method wins)</th><th>parameters</th></tr>"
    body = []
    for method, info in _mapping(man.get("methods")).items():
        info = _mapping(info)
        params = ", ".join(f"{k}={v}" for k, v in _mapping(info.get("params")).items())
        body.append(f"<tr><td>{_e(method)}</td><td class='n'>{_e(info.get('marked', 0))}</td>"
                    f"<td class='n'>{_e(view.by_method.get(method, 0))}</td><td><code>{_e(params)}</code></td></tr>")
    for method, why in _mapping(man.get("skipped_methods")).items():
        body.append(f"<tr><td>{_e(method)}</td><td colspan='3'>skipped: {_e(why)}</td></tr>")
    summary = (f"<p class='muted'>{_e(man.get('marked', 0))} of {_e(man.get('samples', 0))} kept samples are "
               f"marked as duplicates ({_e(view.n_groups)} groups); readers skip them by default. Kept per group: "
               f"{_e(man.get('keep_rule', ''))}.</p>")
    sheet = []
    for group in view.groups:
        figs = "".join(
            f"<figure>{_img(m)}<figcaption><code>{_e(m.key)}</code><br>{_e(m.label)}</figcaption></figure>"
            for m in group)
        sheet.append(f"<div class='cell'><div class='panels'>{figs}</div></div>")
    groups = (f"<h3>Largest duplicate groups ({_e(len(view.groups))} of {_e(view.n_groups)})</h3>"
              f"<div class='sheet'>{''.join(sheet)}</div>") if sheet else ""
    return f"<h2>Duplicates</h2>{summary}<table>{head}{''.join(body)}</table>{groups}"


def _img(m: GroupMember) -> str:
    if not m.thumb:
        return "<p class='muted'>(image not found)</p>"
    return f"<img class='reject' alt='{_e(m.label)} {_e(m.key)}' src='{_e(m.thumb)}'>"


def _e(value) -> str:
    """Every value from OUT/dedup/ is escaped, numbers included (a pulled manifest's "count" may be markup)."""
    return escape(str(value), quote=True)


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}
