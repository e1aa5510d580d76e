"""A deliberately hostile RUN FOLDER (issue 26), in the spirit of hostile_server.py: what a colleague's or a
shared cluster's output could hold, built small (a few hundred KB) so every reader can be tested against it.

    run = write_hostile_run(tmp_path)     # run.out is the pulled run; run.victim another run beside it

run.out/
  run.json                 `inputs` names a local folder of the reader's (LOCAL_IMAGE in it): item 7
  shards/00000-00000.tar   GOOD_KEY (a valid sample, 48 x 40, one person) and the tricks, one sample each:
                           LIST_JSON (json is a list), ZERO_WIDTH (json width 0), DEEP_JSON (100k-deep
                           nesting), HUGE_DEPTH (depth.png header claims 13000 x 13000), SPARSE_DEPTH
                           (a 200 MiB sparse depth.png member in a 10 KB tar), and the valid samples
                           under the unsafe names ESCAPE_NAMES ('../escape', an absolute path)
  shards/00000-00000.parquet  one row per key above, plus an error row from the local folder (row 0) whose
                           reason holds rich markup and ANSI/OSC-8 escapes
  shards/00000-00000.stats.json  a valid marker; its reasons hold the same markup and escapes
  shards/evil.stats.json   a valid-looking marker whose task_id is '../../victim/shards/00000-00000'
  shards/bad-counts.stats.json   counts that are markup, not numbers
  dedup/manifest.json      markup (a <script>) in counts, method names and parameters
  dedup/duplicates.parquet a mark whose duplicate_of_task_id is '../../victim/shards/00000-00000'
run.victim/                another run: shards/00000-00000.{tar,parquet,stats.json}, VICTIM_KEY, a red image
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from humanverse.shards.records import SIDECAR_SCHEMA
from tests.train.shard_factory import make_sample

TASK = "00000-00000"
GOOD_KEY = "00000000000000"
LIST_JSON, ZERO_WIDTH, DEEP_JSON = "00000000000001", "00000000000002", "00000000000003"
HUGE_DEPTH, SPARSE_DEPTH = "00000000000004", "00000000000005"
VICTIM_KEY = "00000000000099"
SPARSE_BYTES = 200 * 2**20
MARKUP = "[bold red]boom[/] [/oops] <script>document.title='pwned'</script>"
ESCAPES = "\x1b[31mred\x1b[0m \x1b]8;;http://evil.invalid/\x1b\\click\x1b]8;;\x1b\\"
SCRIPT = "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
UP = f"../../victim/shards/{TASK}"


@dataclass
class HostileRun:
    out: Path
    victim: Path
    local_images: Path
    escape_names: tuple[str, ...]

    def victim_digest(self) -> str:
        """sha256 over every file of the victim run (names and bytes): must not change."""
        h = hashlib.sha256()
        for path in sorted(self.victim.rglob("*")):
            if path.is_file():
                h.update(str(path.relative_to(self.victim)).encode() + b"\0" + path.read_bytes())
        return h.hexdigest()


def write_hostile_run(root: Path) -> HostileRun:
    rng = np.random.default_rng(0)
    victim, out, local = root / "victim", root / "pulled", root / "local_images"
    local.mkdir(parents=True)
    Image.new("RGB", (40, 40), (0, 0, 255)).save(local / "a.png")  # what run.json's `inputs` points at

    # another run beside it, with a red image
    (victim / "shards").mkdir(parents=True)
    red = make_sample(rng, VICTIM_KEY, 48, 40)
    buf = io.BytesIO()
    Image.new("RGB", (48, 40), (255, 0, 0)).save(buf, format="JPEG")
    red["jpg"] = buf.getvalue()
    _write_tar(victim / "shards" / f"{TASK}.tar", [_members(red)])
    _write_sidecar(victim / "shards" / f"{TASK}.parquet", [_row(VICTIM_KEY, TASK)])
    _write_json(victim / "shards" / f"{TASK}.stats.json", _stats(TASK, 1, {}))

    # the pulled run
    shards = out / "shards"
    shards.mkdir(parents=True)
    good = make_sample(rng, GOOD_KEY, 48, 40)
    tricks = [_members(good)]
    as_list = make_sample(rng, LIST_JSON, 48, 40)
    as_list["json"] = json.dumps([json.loads(as_list["json"])])
    zero = make_sample(rng, ZERO_WIDTH, 48, 40)
    zero["json"] = json.dumps({**json.loads(zero["json"]), "width": 0})
    deep = make_sample(rng, DEEP_JSON, 48, 40)
    deep["json"] = "[" * 100_000 + "]" * 100_000
    huge = make_sample(rng, HUGE_DEPTH, 48, 40)
    huge["depth.png"] = png_header_only(13000, 13000, bit_depth=16)
    huge["normal.png"] = png_header_only(13000, 13000, bit_depth=8, colour_type=2)
    sparse = make_sample(rng, SPARSE_DEPTH, 48, 40)
    sparse.pop("depth.png")
    tricks += [_members(s) for s in (as_list, zero, deep, huge)]
    escape_names = ("../escape", str(root / "victim" / "planted"))
    for name in escape_names:
        tricks.append(_members({**make_sample(rng, "x", 48, 40), "__key__": name}))
    _write_tar(shards / f"{TASK}.tar", tricks, sparse=(sparse, SPARSE_BYTES))
    keys = [GOOD_KEY, LIST_JSON, ZERO_WIDTH, DEEP_JSON, HUGE_DEPTH, SPARSE_DEPTH]
    rows = [_row(k, TASK) for k in keys]
    rows.append({**_row("00000000000010", TASK), "status": "error", "stage": "decode",
                 "reason": MARKUP + ESCAPES, "input": str(local), "row": 0})
    _write_sidecar(shards / f"{TASK}.parquet", rows)
    _write_json(shards / f"{TASK}.stats.json",
                _stats(TASK, len(keys), {f"error:decode:{MARKUP}{ESCAPES}": 1}, errors=1))
    _write_json(shards / "evil.stats.json", _stats(UP, 1, {}))
    _write_json(shards / "bad-counts.stats.json", {**_stats("bad-counts", 1, {}), "input": SCRIPT})
    _write_json(out / "run.json", {"status": "finished", "config": {}, "inputs": [
        {"path": str(local), "format": "folder"}], "models": {SCRIPT: SCRIPT}})

    (out / "dedup").mkdir()
    _write_json(out / "dedup" / "manifest.json", {
        "marked": SCRIPT, "samples": SCRIPT, "keep_rule": SCRIPT,
        "methods": {SCRIPT: {"marked": SCRIPT, "params": {SCRIPT: SCRIPT}}, "exact": {"marked": SCRIPT}},
        "skipped_methods": {SCRIPT: SCRIPT}})
    marks = pa.Table.from_pylist([{
        "key": GOOD_KEY, "task_id": TASK, "duplicate_of": VICTIM_KEY, "duplicate_of_task_id": UP,
        "matched": VICTIM_KEY, "method": "exact", "score": 1.0, "detail": SCRIPT}])
    pq.write_table(marks, out / "dedup" / "duplicates.parquet")
    return HostileRun(out, victim, local, escape_names)


def png_header_only(width: int, height: int, bit_depth: int = 16, colour_type: int = 0) -> bytes:
    """A PNG whose header claims width x height, with a few bytes of pixel data (a reader that trusts the
    header allocates the whole image before it finds out)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(64)))
            + chunk(b"IEND", b""))


def sparse_member(tar: tarfile.TarFile, name: str, real_size: int) -> None:
    """A GNU sparse (PAX 1.0) member whose header says real_size bytes, stored in one 512-byte block: all
    hole, so reading it whole produces real_size zero bytes."""
    info = tarfile.TarInfo(f"GNUSparseFile.0/{name}")
    info.pax_headers = {"GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.name": name,
                        "GNU.sparse.realsize": str(real_size)}
    sparse_map = b"1\n0\n0\n".ljust(512, b"\0")
    info.size = len(sparse_map)
    tar.addfile(info, io.BytesIO(sparse_map))


def _members(sample: dict) -> list[tuple[str, bytes]]:
    key = sample["__key__"]
    return [(f"{key}.{suffix}", value.encode() if isinstance(value, str) else value)
            for suffix, value in sample.items() if not suffix.startswith("__")]


def _write_tar(path: Path, samples: list[list[tuple[str, bytes]]], sparse: tuple[dict, int] | None = None) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for members in samples:
            for name, data in members:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
        if sparse is not None:
            sample, size = sparse
            for name, data in _members(sample):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            sparse_member(tar, f"{sample['__key__']}.depth.png", size)


def _row(key: str, task: str) -> dict:
    return {"key": key, "task_id": task, "status": "ok", "reason": None, "stage": None, "width": 48, "height": 40,
            "url": f"http://example.invalid/{key}.jpg", "aesthetic": 5.0, "n_persons": 1}


def _write_sidecar(path: Path, rows: list[dict]) -> None:
    pq.write_table(pa.Table.from_pylist(rows, schema=SIDECAR_SCHEMA), path)


def _stats(task: str, ok: int, reasons: dict, errors: int = 0) -> dict:
    return {"task_id": task, "input": ok + errors, "ok": ok, "rejected": 0, "error": errors, "written": ok,
            "transient_errors": 0, "reasons": reasons, "stages": {"decode": {"in": ok + errors, "ok": ok}},
            "stage_seconds": {"decode": 0.1}}


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value))
