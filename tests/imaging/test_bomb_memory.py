"""A decompression bomb is rejected from its header, with peak RSS bounded (measured in a fresh process)."""

import json
import struct
import subprocess
import sys
import zlib

import pytest

from tests.support.realdata import BAD

pytestmark = pytest.mark.reliability

PROBE = r'''
import json, resource, sys
from humanverse.imaging.decode import DecodeConfig, decode_image
cfg = DecodeConfig()
results = {}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for path in sys.argv[1:]:
    data = open(path, "rb").read()
    results[path] = decode_image(data, cfg)[1]
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"reasons": results, "growth_kib": after - before}))
'''


def png_header_bomb(width: int, height: int) -> bytes:
    """A valid PNG whose IHDR claims width x height, with one tiny compressed IDAT (a classic bomb)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def test_bombs_rejected_from_header_with_bounded_memory(tmp_path):
    files = [tmp_path / "bomb.png"]
    files[0].write_bytes(png_header_bomb(60000, 60000))  # 3.6 Gpx: ~10 GiB if decoded as RGB
    shared = BAD
    files += [shared / n for n in ("pillow_decompression_bomb.gif",
                                   "pillow_png_decompression_dos.png") if (shared / n).exists()]
    out = subprocess.run([sys.executable, "-c", PROBE, *map(str, files)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["reasons"][str(files[0])] == "too_many_pixels"
    for path, reason in result["reasons"].items():
        assert reason in {"too_many_pixels", "metadata_too_large", "too_large_side"}, (path, reason)
    assert result["growth_kib"] < 64 * 1024, f"peak RSS grew {result['growth_kib'] / 1024:.0f} MiB"
