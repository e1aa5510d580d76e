"""`humanverse inspect` on a real curated output: the HTML is self-contained, every image decodes, and
headless chromium renders it with no broken image."""

from __future__ import annotations

import argparse
import base64
import io
import json
import re
import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from humanverse.report.inspect import collect
from humanverse.report.inspect_cli import add_inspect_parser
from humanverse.report.rejected_images import local_image_bytes
from tests.report import browser

SRC = re.compile(r"""<img[^>]*\bsrc=['"]([^'"]*)['"]""")


def run_inspect(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_inspect_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["inspect", *argv])
    return args.func(args)


@pytest.fixture(scope="module")
def report(curated_output, tmp_path_factory):
    html = tmp_path_factory.mktemp("report") / "report.html"
    assert run_inspect(curated_output, "--html", str(html), "--samples", "8") == 0
    return html


def decoded_images(html: str) -> list[Image.Image]:
    images = []
    for src in SRC.findall(html):
        assert src.startswith("data:image/"), f"not self-contained: {src[:80]}"
        payload = base64.b64decode(src.split(",", 1)[1], validate=True)
        with Image.open(io.BytesIO(payload)) as im:
            im.load()
            images.append(im.copy())
    return images


def test_report_is_self_contained_and_every_image_decodes(report, curated_output):
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html and "http-equiv" not in html
    assert not re.search(r"""(src|href)=['"]https?:""", html)
    images = decoded_images(html)
    ok = collect(curated_output).summary["counts"]["ok"]
    # funnel chart + 5 non-empty charts (aesthetic, persons, human area, errors, rejections) + 4 panels per kept
    assert len(images) == 1 + 5 + 4 * ok
    assert all(im.width > 20 and im.height > 20 for im in images)
    for panel in ("pose + boxes", "depth (turbo: near = red)", "normal", "person mask"):
        assert html.count(f"<figcaption>{panel}</figcaption>") == ok
    # the demo banner says, from the run's config, which stages ran trained models and which random ones
    assert "trained models: detect (OpenCV HOG people detector), pose (MediaPipe Holistic" in html
    assert "tiny random-weight models, output is noise: clip/aesthetic/nsfw" in html
    assert "aesthetic score (LAION, 1–10)" in html  # the scale is named in the caption
    assert "error at fetch: http_404" in html and "error at decode: not_an_image" in html


def test_terminal_summary_names_stages_and_reasons(curated_output, tmp_path, capsys):
    assert run_inspect(curated_output, "--html", str(tmp_path / "r.html"), "--samples", "0") == 0
    out = capsys.readouterr().out
    assert "filter funnel" in out and "person" in out and "http_404" in out and "not_an_image" in out
    assert f"report: {tmp_path / 'r.html'}" in out


def test_inspect_refuses_an_output_without_complete_shards(tmp_path):
    (tmp_path / "empty" / "shards").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no complete shards"):
        run_inspect(str(tmp_path / "empty"))


def test_funnel_reports_only_complete_tasks(curated_output, tmp_path):
    out = tmp_path / "partial"
    shutil.copytree(curated_output, out)
    full = collect(str(out))
    marker = min((out / "shards").glob("*.stats.json"))
    marker.unlink()  # that task is now "still running": its tar and parquet must not be counted
    partial = collect(str(out))
    assert partial.summary["tasks"] == full.summary["tasks"] - 1
    assert partial.sidecar.num_rows == full.sidecar.num_rows - json.loads(
        (Path(curated_output) / "shards" / marker.name).read_text())["input"]
    assert partial.sidecar.num_rows == partial.summary["counts"]["input"]


def test_chromium_renders_report_with_no_broken_image(report, tmp_path):
    if not browser.CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (scripts/install_browser.sh installs it)")
    png = tmp_path / "report.png"
    browser.screenshot(report, png, tmp_path / "profile")
    pixels = np.asarray(Image.open(png).convert("L"), dtype=np.float32)
    assert pixels.std() > 20, "screenshot is blank"
    dom = browser.loaded_dom(report, tmp_path / "profile2")
    found = re.search(r"images=(\d+) broken=(\d+)", dom)
    assert found, dom[-2000:]
    assert int(found.group(1)) >= 8 and int(found.group(2)) == 0


def test_rejected_thumbnails_only_from_named_local_inputs(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (64, 48), (200, 10, 10)).save(folder / "b.png")
    Image.new("RGB", (64, 48), (10, 200, 10)).save(folder / "a.jpg")
    tar_path = tmp_path / "00000.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name, data in (("s0.txt", b"x"), ("s0.jpg", (folder / "a.jpg").read_bytes()),
                           ("s1.txt", b"y"), ("s1.png", (folder / "b.png").read_bytes())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    named = {str(folder): "folder", str(tar_path): "img2dataset", "/data/in.parquet": "laion"}
    assert Image.open(io.BytesIO(local_image_bytes(str(folder), 0, named))).getpixel((5, 5))[1] > 150  # a.jpg
    assert local_image_bytes(str(tar_path), 1, named) == (folder / "b.png").read_bytes()
    assert local_image_bytes("/data/in.parquet", 0, named) is None
    assert local_image_bytes(str(folder), 0, {}) is None  # a folder the run was not started with
    assert local_image_bytes("s3://bucket/images", 0, {"s3://bucket/images": "folder"}) is None


def test_report_never_reads_a_location_named_inside_an_input_row(tmp_path):
    """F3: a file:// URL in a parquet row (or an img2dataset json's url) must not become a thumbnail."""
    import random

    import pyarrow as pa

    from humanverse.report.inspect import rejected_examples
    from humanverse.shards.records import SIDECAR_SCHEMA

    secret = tmp_path / "secret.png"
    Image.new("RGB", (32, 32), (1, 2, 3)).save(secret)
    rows = [{"key": f"k{i}", "task_id": "00000-00000", "status": "error", "stage": "fetch", "reason": "bad_url",
             "url": url, "input": str(tmp_path / "in.parquet"), "row": i}
            for i, url in enumerate([f"file://{secret}", f"file:{secret}", str(secret)])]
    sidecar = pa.Table.from_pylist(rows, schema=SIDECAR_SCHEMA)
    examples = rejected_examples(sidecar, 6, random.Random(0))
    assert [e.image for e in examples["error:fetch:bad_url"]] == [None, None, None]


def test_inspect_reads_shard_members_under_a_cap(tmp_path):
    """A sample with a member over the cap is left out whole and counted (shards/untrusted.py)."""
    from collections import Counter

    from humanverse.shards.untrusted import tar_members

    tar_path = tmp_path / "t.tar"
    with tarfile.open(tar_path, "w") as tar:
        for name, size in (("k1.jpg", 10), ("k1.depth.png", 5000), ("k1.json", 2), ("k2.jpg", 10)):
            info = tarfile.TarInfo(name)
            info.size = size
            tar.addfile(info, io.BytesIO(bytes(size)))
    tally = Counter()
    found = dict(tar_members(str(tar_path), {"k1", "k2"}, max_member_bytes=100, tally=tally))
    assert set(found) == {"k2"} and tally == {"member_too_large": 1}
