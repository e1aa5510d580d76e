"""A kit photo with personal metadata written into it, without touching its image data.

The shared photos carry no GPS EXIF, so tests make one: Pillow builds the EXIF block (a GPS IFD, a camera
serial), and it is inserted as an APP1 segment right after SOI, next to XMP, IPTC, a comment, an ICC
profile of any size (split into APP2 chunks) and, after EOI, appended bytes (a ZIP signature).
"""

from __future__ import annotations

from PIL import ExifTags, Image

GPS = {
    ExifTags.GPS.GPSLatitudeRef: "N",
    ExifTags.GPS.GPSLatitude: (48.0, 51.0, 29.0),
    ExifTags.GPS.GPSLongitudeRef: "E",
    ExifTags.GPS.GPSLongitude: (2.0, 17.0, 40.0),
}
SERIAL = "SN-4242-PRIVATE"
TRAILING = b"PK\x03\x04" + b"polyglot zip payload" * 10


def exif_block(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.BodySerialNumber] = SERIAL
    exif.get_ifd(ExifTags.IFD.GPSInfo).update(GPS)
    return exif.tobytes()  # starts with "Exif\0\0", as the APP1 payload does


def segment(marker: int, payload: bytes) -> bytes:
    assert len(payload) + 2 <= 0xFFFF
    return bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload


def icc_segments(profile: bytes) -> bytes:
    chunk = 65519 - 14
    pieces = [profile[i : i + chunk] for i in range(0, len(profile), chunk)]
    return b"".join(segment(0xE2, b"ICC_PROFILE\x00" + bytes([n + 1, len(pieces)]) + piece)
                    for n, piece in enumerate(pieces))


def fake_icc(size: int) -> bytes:
    """An ICC-shaped blob: the header's colour space field says RGB (what decode checks), the rest filler."""
    header = size.to_bytes(4, "big") + b"none" + b"\x02\x10\x00\x00" + b"mntr" + b"RGB " + b"XYZ "
    return header + bytes(size - len(header))


def with_private_metadata(jpeg: bytes, orientation: int = 1, icc_size: int = 15 * 1024**2) -> bytes:
    """`jpeg` with EXIF (GPS, serial, orientation), XMP, IPTC, a comment, an ICC profile and trailing bytes."""
    assert jpeg.startswith(b"\xff\xd8")
    segments = [
        segment(0xE1, exif_block(orientation)),
        segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta><dc:creator>Jane Doe</dc:creator></x:xmpmeta>"),
        segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10\x1c\x02\x50\x00\x08Jane Doe"),
        segment(0xFE, b"taken at 12 Private Lane"),
        icc_segments(fake_icc(icc_size)) if icc_size else b"",
    ]
    return jpeg[:2] + b"".join(segments) + jpeg[2:] + TRAILING
