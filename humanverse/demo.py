"""`humanverse demo`: serve a folder of photos on 127.0.0.1, write a LAION-format parquet of their URLs
(plus a dead link and a web page posing as a JPEG, to show failures as rows), and curate it.
"""

from __future__ import annotations

import functools
import shutil
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from PIL import Image

from humanverse import config as config_mod
from humanverse.console import make_console
from humanverse.sources.image_folder import IMAGE_SUFFIXES


def default_images() -> list[Path]:
    import ultralytics

    return sorted((Path(ultralytics.__file__).parent / "assets").glob("*.jpg"))


def collect_images(folders: list[str]) -> list[Path]:
    if not folders:
        return default_images()
    found = []
    for folder in folders:
        found += [p for p in sorted(Path(folder).iterdir()) if p.suffix.lower() in IMAGE_SUFFIXES]
    return found


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def write_demo_parquet(images: list[Path], serve_dir: Path, base_url: str, target: Path) -> int:
    rows = []
    for i, src in enumerate(images):
        name = f"{i:04d}{src.suffix.lower()}"
        shutil.copyfile(src, serve_dir / name)
        try:
            with Image.open(src) as im:
                w, h = im.size
        except OSError:
            w = h = None
        rows.append({"SAMPLE_ID": i, "URL": f"{base_url}/{name}", "TEXT": src.stem.replace("_", " "),
                     "WIDTH": w, "HEIGHT": h})
    (serve_dir / "page.jpg").write_text("<html><body>not an image</body></html>")
    rows.append({"SAMPLE_ID": len(rows), "URL": f"{base_url}/page.jpg", "TEXT": "a web page, not a photo",
                 "WIDTH": None, "HEIGHT": None})
    rows.append({"SAMPLE_ID": len(rows), "URL": f"{base_url}/missing.jpg", "TEXT": "a dead link",
                 "WIDTH": None, "HEIGHT": None})
    schema = pa.schema([("SAMPLE_ID", pa.int64()), ("URL", pa.string()), ("TEXT", pa.string()),
                        ("WIDTH", pa.int32()), ("HEIGHT", pa.int32())])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), target)
    return len(rows)


def run_demo(output: str, image_folders: list[str], overrides: list[str], force: bool) -> int:
    from humanverse.engine.run import run_curate

    console = make_console(stderr=True)
    images = collect_images(image_folders)
    cfg = config_mod.resolve("demo", None, overrides)
    with tempfile.TemporaryDirectory(prefix="humanverse-demo-") as tmp:
        serve_dir = Path(tmp)
        handler = functools.partial(_QuietHandler, directory=str(serve_dir))
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            base = f"http://127.0.0.1:{server.server_address[1]}"
            # Beside the output, at a stable path, so rerunning the demo resumes (the port may differ).
            parquet = Path(output).with_name(Path(output).name + "-input.parquet")
            parquet.parent.mkdir(parents=True, exist_ok=True)
            n = write_demo_parquet(images, serve_dir, base, parquet)
            console.print(f"demo: serving {len(images)} photos at {base} (loopback only); "
                          f"{n} rows in the LAION-format parquet {parquet}")
            return run_curate(cfg, [str(parquet)], output, None, force, True, console)
        finally:
            server.shutdown()
