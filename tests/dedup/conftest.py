"""One real curated run whose input holds copies of one photo (curated once per session, demo preset with
CLIP embeddings kept), for the dedup pass, the readers and the report."""

from __future__ import annotations

import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from tests.support.http_server import LocalHTTPServer
from tests.support.laion_input import HOG_DETECT, LAION_SCHEMA, ultralytics_assets

# caption -> file served; the bus photo is the one HOG (pinned below) keeps
COPIES = {
    "original": "bus.jpg",
    "same url with tracking noise": "bus.jpg",
    "same bytes elsewhere": "bus_copy.jpg",
    "resized": "bus_resized.jpg",
    "another photo": "zidane.jpg",
}


@pytest.fixture(scope="session")
def dup_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("dupwww")
    bus = ultralytics_assets() / "bus.jpg"
    shutil.copyfile(bus, root / "bus.jpg")
    shutil.copyfile(bus, root / "bus_copy.jpg")
    shutil.copyfile(ultralytics_assets() / "zidane.jpg", root / "zidane.jpg")
    with Image.open(bus) as im:  # (a mirrored copy is not used: the demo's HOG detector misses its people)
        im.convert("RGB").resize((im.width * 3 // 4, im.height * 3 // 4), Image.Resampling.LANCZOS).save(
            root / "bus_resized.jpg", quality=85)
    with LocalHTTPServer(root) as srv:
        yield srv


@pytest.fixture(scope="session")
def dup_run(tmp_path_factory, dup_server, ray_local):
    """OUT of a complete curate run with 3 shards (2 rows each; local executor); treat as read-only (copy it
    to change it). `ray_local` is for the dedup pass itself, which the tests run on Ray through the CLI."""
    root = tmp_path_factory.mktemp("duprun")
    return curate_copies(copies_input(root, dup_server), str(root / "out"), ["clip.keep_embeddings=true"])


def copies_input(root, server) -> str:
    """A LAION parquet of COPIES' rows, one per caption (rows_per_task=2: three tasks)."""
    rows = []
    for i, (caption, name) in enumerate(COPIES.items()):
        url = server.url(f"img/{name}")
        if caption == "same url with tracking noise":
            url += "?utm_source=mail&fbclid=x"
        rows.append({"SAMPLE_ID": i, "URL": url, "TEXT": caption, "WIDTH": None, "HEIGHT": None})
    parquet = root / "part-00000.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=LAION_SCHEMA), parquet)
    return str(parquet)


def curate_copies(parquet: str, out: str, overrides: list[str], engine: str = "local") -> str:
    """curate the copies (demo preset, HOG detector, 2 rows per task, local executor by default) into out."""
    from humanverse import config
    from humanverse.engine.curate import curate

    cfg = config.resolve("demo", None, ["input.rows_per_task=2", *HOG_DETECT, *overrides])
    result = curate(cfg, [parquet], out, allow_private_urls=True, engine=engine)
    assert result.ok, result.summary
    return out


def ok_rows(out: str) -> dict[str, dict]:
    """caption -> sidecar row of the ok samples."""
    import glob

    table = pq.read_table(sorted(glob.glob(f"{out}/shards/*.parquet")))
    return {r["caption"]: r for r in table.to_pylist() if r["status"] == "ok"}
