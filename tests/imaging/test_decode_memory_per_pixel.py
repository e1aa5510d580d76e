"""F7: peak decode memory per output pixel over the hostile corpus, each big file in a fresh process.

The corpus: images just under the pixel limit that compress to almost nothing, in the modes that cost the
most to convert (an 8000 x 8000 RGBA PNG of ~250 KB, a palette + alpha PNG of ~60 KB, a float TIFF of
~370 KB), plus every file of the shared corpus of broken images. Before the fix they cost ~54 bytes per
pixel (3.2-3.4 GB); the bound is 8 bytes per output pixel plus a constant, as the README states.
"""

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.support.realdata import BAD

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

SIDE = 8000  # 64,000,000 pixels: DecodeConfig.max_pixels exactly, so the header check lets them through
BYTES_PER_PIXEL = 8
CONSTANT_MIB = 24
SHARED_BAD = BAD

PROBE = r'''
import json, resource, sys, io
from PIL import Image
from humanverse.imaging.decode import DecodeConfig, decode_image
cfg = DecodeConfig()
for fmt, mode in (("PNG", "RGBA"), ("PNG", "P"), ("TIFF", "F"), ("JPEG", "RGB"), ("GIF", "P")):
    buf = io.BytesIO(); Image.new(mode, (64, 64)).save(buf, format=fmt)  # load every codec first
    decode_image(buf.getvalue(), cfg)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
largest, reasons = 0, {}
for path in sys.argv[1:]:
    decoded, reason = decode_image(open(path, "rb").read(), cfg)
    reasons[path] = reason
    if decoded is not None:
        largest = max(largest, decoded.width * decoded.height)
    del decoded
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_kib": after - before, "pixels": largest, "reasons": reasons}))
'''


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def flat_png(path: Path, colour_type: int, bytes_per_pixel: int, extra: bytes = b"") -> Path:
    """A SIDE x SIDE PNG of zero rows, compressed row by row so this process never holds the pixels."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + SIDE * bytes_per_pixel)
    idat = b"".join(compressor.compress(row) for _ in range(SIDE)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", SIDE, SIDE, 8, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + extra + _chunk(b"IDAT", idat) + _chunk(b"IEND", b""))
    return path


def float_tiff(path: Path) -> Path:
    """Written by Pillow in a child process, so the 256 MB of pixels never live in the test process."""
    script = ("from PIL import Image; import sys; "
              f"Image.new('F', ({SIDE}, {SIDE}), 0.5).save(sys.argv[1], compression='tiff_deflate')")
    subprocess.run([sys.executable, "-c", script, str(path)], check=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def hostile_corpus(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("hostile-images")
    palette = _chunk(b"PLTE", bytes(range(256)) * 3) + _chunk(b"tRNS", bytes([0, 128]))
    return {
        "rgba_png": flat_png(root / "rgba.png", 6, 4),
        "palette_alpha_png": flat_png(root / "palette_alpha.png", 3, 1, palette),
        "float_tiff": float_tiff(root / "float.tif"),
    }


def measure(paths: list[Path]) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, *map(str, paths)], capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["rgba_png", "palette_alpha_png", "float_tiff"])
def test_peak_decode_memory_is_bounded_per_output_pixel(hostile_corpus, name):
    path = hostile_corpus[name]
    assert path.stat().st_size < 400 * 1024  # tiny files: the attack is the ratio
    result = measure([path])
    assert result["reasons"][str(path)] is None and result["pixels"] == SIDE * SIDE
    growth = result["growth_kib"] * 1024
    per_pixel = growth / result["pixels"]
    print(f"{name}: {path.stat().st_size / 1024:.0f} KB file, peak +{growth / 2**20:.0f} MiB, "
          f"{per_pixel:.2f} bytes per output pixel")
    assert growth <= BYTES_PER_PIXEL * result["pixels"] + CONSTANT_MIB * 2**20, f"{per_pixel:.1f} B/px"


@pytest.mark.skipif(not SHARED_BAD.exists(), reason="shared corpus of broken images not present")
def test_shared_broken_corpus_stays_within_the_same_bound():
    files = sorted(p for p in SHARED_BAD.iterdir() if p.is_file())
    result = measure(files)
    growth = result["growth_kib"] * 1024
    assert growth <= BYTES_PER_PIXEL * result["pixels"] + CONSTANT_MIB * 2**20, (growth, result["pixels"])
