"""Decode time is bounded (issue 26 item 10): a JPEG with thousands of scans and an RLE BMP are refused from
their headers and bytes, before any pixel is decoded. Both decoded (slowly) on the code before."""

from __future__ import annotations

import io
import struct
import time

from PIL import Image

from humanverse.imaging.decode import MAX_JPEG_SCANS, DecodeConfig, decode_image, read_header
from humanverse.imaging.jpeg_metadata import _segments, count_jpeg_scans
from humanverse.stages.decode import REJECT_REASONS

CFG = DecodeConfig()


def progressive_jpeg(side: int = 256) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (120, 130, 140)).save(buffer, "JPEG", progressive=True)
    return buffer.getvalue()


def repeated_scan(times: int, junk: bytes = b"") -> bytes:
    """The last (near-empty) scan of a flat progressive JPEG repeated: libjpeg decodes each over the image."""
    segments = _segments(progressive_jpeg())
    last = max(i for i, (marker, _) in enumerate(segments) if marker == 0xDA)
    head = b"\xff\xd8" + b"".join(body for _, body in segments[: last + 1])
    return head + (junk + segments[last][1]) * times + b"\xff\xd9"


def test_a_normal_progressive_jpeg_decodes():
    data = progressive_jpeg()
    assert count_jpeg_scans(data, MAX_JPEG_SCANS) == 10
    decoded, reason = decode_image(data, CFG)
    assert reason is None and decoded.width == 256


def test_a_jpeg_repeating_a_scan_is_refused_before_decoding():
    data = repeated_scan(5_000)
    assert len(data) < 100_000
    started = time.process_time()
    assert decode_image(data, CFG) == (None, "too_many_scans")  # old code: decoded every scan
    assert read_header(data, CFG) == (None, "too_many_scans")
    assert time.process_time() - started < 1.0
    assert "too_many_scans" in REJECT_REASONS


def test_junk_between_scans_does_not_hide_them():
    """libjpeg skips bytes up to the next marker ('extraneous bytes') and goes on decoding: so does the count."""
    data = repeated_scan(200, junk=b"\x12\x34junk")
    assert count_jpeg_scans(data, 10_000) == 210
    assert decode_image(data, CFG) == (None, "too_many_scans")


def test_the_limit_is_inclusive():
    assert count_jpeg_scans(repeated_scan(MAX_JPEG_SCANS - 10), MAX_JPEG_SCANS) == MAX_JPEG_SCANS
    assert decode_image(repeated_scan(MAX_JPEG_SCANS - 10), CFG)[1] is None


def rle8_bmp(width: int, height: int) -> bytes:
    """A BI_RLE8 BMP: header, 256-colour palette, then one run per row and end of bitmap."""
    rows = b"".join(bytes([min(width, 255), 7]) + b"\x00\x00" for _ in range(height)) + b"\x00\x01"
    palette = b"".join(bytes([i, i, i, 0]) for i in range(256))
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 1, len(rows), 2835, 2835, 256, 0)
    offset = 14 + len(info) + len(palette)
    return b"BM" + struct.pack("<IHHI", offset + len(rows), 0, 0, offset) + info + palette + rows


def test_an_rle_bmp_is_refused():
    data = rle8_bmp(64, 64)
    assert Image.open(io.BytesIO(data)).info["compression"] == 1  # a BMP Pillow reads (slowly, in Python)
    assert decode_image(data, CFG) == (None, "unsupported_compression")  # old code: decoded
    assert "unsupported_compression" in REJECT_REASONS


def test_counting_scans_from_the_walked_segments_matches_the_byte_walk():
    """decode walks a JPEG's segments once and counts its scans from them (no second pass over the bytes):
    wherever that walk is clean, the count is the byte walk's, limit included."""
    from tests.support.realdata import BAD, PEOPLE

    from humanverse.imaging.jpeg_metadata import jpeg_segments

    files = [p.read_bytes() for folder in (PEOPLE, BAD) if folder.is_dir() for p in sorted(folder.iterdir())
             if p.is_file()]
    files += [progressive_jpeg(), repeated_scan(MAX_JPEG_SCANS - 10), repeated_scan(MAX_JPEG_SCANS + 5),
              repeated_scan(3, junk=b"\x12\x34junk"), progressive_jpeg()[:-40]]
    walked = 0
    for data in files:
        segments = jpeg_segments(data)
        if segments is None:
            continue
        walked += 1
        for limit in (0, 5, MAX_JPEG_SCANS, 10_000):
            assert count_jpeg_scans(data, limit, segments) == count_jpeg_scans(data, limit)
    assert walked >= 4
