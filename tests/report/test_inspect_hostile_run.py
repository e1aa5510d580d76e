"""Issue 26, items 3, 5, 7, 8 and 9: `humanverse inspect` on the hostile run folder (tests/support/hostile_run.py).
No markup from the run reaches the HTML or runs in chromium, no id leaves the run folder, run.json's
`inputs` names nothing the report reads, bad samples and markers are counted, the terminal gets no escapes."""

from __future__ import annotations

import contextlib
import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.report import browser
from tests.report.test_inspect_report import decoded_images, run_inspect
from tests.support.hostile_run import GOOD_KEY, HUGE_DEPTH, SCRIPT, VICTIM_KEY, write_hostile_run


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return write_hostile_run(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def inspected(hostile, tmp_path_factory):
    """(report path, terminal output) of one `inspect` run. Old code: the bad marker (FileNotFoundError for
    its missing sidecar) or rich's MarkupError on the reason stopped it."""
    html = tmp_path_factory.mktemp("report") / "report.html"
    terminal = io.StringIO()
    with contextlib.redirect_stdout(terminal):
        assert run_inspect(str(hostile.out), "--html", str(html), "--samples", "10") == 0
    return html, terminal.getvalue()


@pytest.fixture(scope="module")
def report(inspected):
    return inspected[0]


def test_no_value_from_the_run_reaches_the_html_unescaped(report):
    html = report.read_text(encoding="utf-8")
    assert "<script" not in html and 'onerror="' not in html
    assert "&lt;script&gt;" in html  # the manifest's values are shown, escaped


def test_ids_from_the_run_never_leave_it(hostile, report):
    """Old code: the dedup mark's '../../victim/shards/...' task id pulled the victim's red image into the
    report, and the marker's task id read the victim's sidecar."""
    digest = hostile.victim_digest()
    html = report.read_text(encoding="utf-8")
    for im in decoded_images(html):
        rgb = np.asarray(im.convert("RGB"), dtype=np.int32)
        red = (rgb[..., 0] > 200) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)
        assert red.mean() < 0.5, "the victim run's image is in the report"
    assert VICTIM_KEY not in html
    assert hostile.victim_digest() == digest


def test_bad_samples_and_markers_are_counted_not_fatal(report):
    html = report.read_text(encoding="utf-8")
    assert f"<code>{GOOD_KEY}</code>" in html and f"<code>{HUGE_DEPTH}</code>" not in html
    counted = re.search(r"Left out as unreadable</h2><p[^>]*>(.*?)</p>", html).group(1)
    for reason in ("bad_stats_marker (2)", "bad_json (2)", "too_many_pixels (1)", "member_too_large (1)",
                   "bad_dedup_mark (1)"):
        assert reason in counted, counted


def test_run_json_inputs_are_not_the_users(hostile, report):
    """Old code: run.json's `inputs` named a local folder, and the rejected row from it got its image."""
    from humanverse.report.inspect import collect

    def images(data) -> list[bytes | None]:
        return [ex.image for examples in data.rejected.values() for ex in examples]

    assert images(collect(str(hostile.out), samples=0)) == [None]
    assert "<img class='reject' alt='rejected" not in report.read_text(encoding="utf-8")
    shown = images(collect(str(hostile.out), samples=0, inputs=[str(hostile.local_images)]))
    assert shown == [(hostile.local_images / "a.png").read_bytes()]  # named by the user: shown


def test_terminal_gets_no_escapes_and_no_markup(inspected):
    out = inspected[1]
    assert "bad_stats_marker" in out
    assert "\x1b" not in out and "\x07" not in out
    assert "[bold red]boom[/]" in out  # shown as the text it is


def test_chromium_runs_no_script_from_the_run(report, tmp_path):
    if not browser.CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (scripts/install_browser.sh installs it)")
    dom = browser.loaded_dom(report, tmp_path / "profile")
    assert "<title>humanverse run report" in dom and "pwned" not in dom.split("</title>")[0]
    found = re.search(r"images=(\d+) broken=(\d+)", dom)
    assert found and int(found.group(2)) == 0, dom[-2000:]
    png = tmp_path / "shot.png"
    browser.screenshot(report, png, tmp_path / "profile2")
    assert np.asarray(Image.open(png).convert("L"), dtype=np.float32).std() > 5
    assert SCRIPT not in dom  # the markup is text in the DOM, never elements
