"""Headless Debian chromium for report tests: screenshots and the DOM after every image has loaded."""

from __future__ import annotations

import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# Runs after the load event (every <img> has loaded or failed by then) and writes what it found into the DOM.
IMAGE_CHECK = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.images];
  const out = document.createElement('pre'); out.id = 'image-check';
  out.textContent = `images=${imgs.length} broken=${imgs.filter(i => !i.complete || i.naturalWidth === 0).length}`;
  document.body.appendChild(out);
});
</script>"""


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHROMIUM), *_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120, check=False)


def screenshot(html: Path, png: Path, profile: Path, size: str = "1400,3000") -> None:
    r = _run([f"--screenshot={png}", f"--window-size={size}", html.resolve().as_uri()], profile)
    assert png.exists(), r.stderr[-2000:]


def loaded_dom(html: Path, profile: Path) -> str:
    """The DOM of a copy of the page with IMAGE_CHECK appended, as chromium has it after the load event."""
    probe = html.with_name(html.stem + ".probe.html")
    probe.write_text(html.read_text(encoding="utf-8").replace("</body>", IMAGE_CHECK + "</body>"), encoding="utf-8")
    r = _run(["--virtual-time-budget=5000", "--dump-dom", probe.resolve().as_uri()], profile)
    return r.stdout
