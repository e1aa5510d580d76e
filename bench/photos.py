"""The benchmark's input: real photos served on 127.0.0.1 and LAION-format parquets of their URLs.

Photos come from the project's shared evaluation set (../shared/realdata/people) when it is beside the
checkout, otherwise from the photos bundled in the ultralytics package. They are served in place (never
copied) by the standard library's HTTP server in a process of its own, so neither contestant shares its
interpreter with the server.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from common import REPO

SHARED_PEOPLE = REPO.parent / "shared" / "realdata" / "people"
LAION_SCHEMA = pa.schema([("SAMPLE_ID", pa.int64()), ("URL", pa.string()), ("TEXT", pa.string()),
                          ("WIDTH", pa.int32()), ("HEIGHT", pa.int32())])


def photo_dir() -> Path:
    """The shared photos through the project's one lookup (a worktree's ../shared is not beside it; before
    2026-11-27 such a checkout silently measured ultralytics' 2 photos instead of the shared 35)."""
    from humanverse.accuracy.ground_truth import people_dir_or_none

    shared = people_dir_or_none()
    if shared is not None and any(shared.glob("*.jpg")):
        return shared
    if SHARED_PEOPLE.is_dir() and any(SHARED_PEOPLE.glob("*.jpg")):
        return SHARED_PEOPLE
    import ultralytics

    return Path(ultralytics.__file__).parent / "assets"


def photos(folder: Path | None = None) -> list[Path]:
    return sorted((folder or photo_dir()).glob("*.jpg"))


@contextlib.contextmanager
def serve(folder: Path):
    """`python -m http.server` on loopback over folder; yields the base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def write_laion(path: Path, base_url: str, chosen: list[Path], rows: int) -> Path:
    """`rows` rows cycling over the chosen photos, with their true sizes (as LAION has them)."""
    sizes = {}
    for p in chosen:
        with Image.open(p) as im:
            sizes[p] = im.size
    table = [
        {"SAMPLE_ID": i, "URL": f"{base_url}/{p.name}", "TEXT": p.stem.replace("_", " "),
         "WIDTH": sizes[p][0], "HEIGHT": sizes[p][1]}
        for i, p in ((i, chosen[i % len(chosen)]) for i in range(rows))
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(table, schema=LAION_SCHEMA), path)
    return path


def single_person_photos(cfg, limit: int) -> list[Path]:
    """Photos that the config's detect and CLIP-score groups keep with exactly one person, so every e2e
    image carries the same annotator work (one pose crop, one depth and one normal map)."""
    import numpy as np

    from humanverse.core.sample import Sample
    from humanverse.plan import build_stage_groups

    groups = {g.name: g for g in build_stage_groups(cfg, allow_private_urls=True)}
    stages = groups["detect"].stages + (groups["clip_scores"].stages if "clip_scores" in groups else [])
    for stage in stages:
        stage.ensure_setup()
    chosen = []
    for path in photos():
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB"))
        if min(rgb.shape[:2]) < 200:
            continue
        s = Sample(key="k", task_id="t", source={})
        s.image, s.height, s.width = rgb, rgb.shape[0], rgb.shape[1]
        for stage in stages:
            if s.alive:
                stage.process([s])
        if s.alive and len(s.persons) == 1:
            chosen.append(path)
        if len(chosen) == limit:
            break
    return chosen
