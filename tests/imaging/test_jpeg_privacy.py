"""Privacy of the people in the images: a kept JPEG loses its EXIF (GPS, serial), XMP, IPTC, comments,
oversized ICC profile and trailing bytes, losslessly; a re-encoded one carries none of them either."""

import io

import numpy as np
import pytest
from PIL import ExifTags, Image

from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.imaging.jpeg_metadata import _end_of_entropy_data, strip_jpeg_metadata
from tests.support.private_jpeg import SERIAL, TRAILING, fake_icc, icc_segments, with_private_metadata
from tests.support.realdata import PEOPLE

KIT_PHOTO = PEOPLE / "coco_000000000785.jpg"
pytestmark = pytest.mark.skipif(not KIT_PHOTO.exists(), reason="shared real photos not present")
PRIVATE_STRINGS = (b"Exif\x00", SERIAL.encode(), b"Jane Doe", b"Private Lane", b"ICC_PROFILE", TRAILING)


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


def gps_of(data: bytes) -> dict:
    with Image.open(io.BytesIO(data)) as image:
        return dict(image.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def test_gps_photo_passes_through_without_metadata_and_with_identical_pixels():
    original = KIT_PHOTO.read_bytes()
    private = with_private_metadata(original)
    assert gps_of(private)  # the copy really carries a GPS position
    decoded, reason = decode_image(private, DecodeConfig())
    assert reason is None and decoded.jpeg_is_original  # passed through, not re-encoded
    out = decoded.jpeg
    assert gps_of(out) == {}
    for secret in PRIVATE_STRINGS:
        assert secret not in out, secret
    assert out.endswith(b"\xff\xd9")
    assert np.array_equal(pixels(out), pixels(private))
    assert np.array_equal(pixels(out), pixels(original))
    removed = decoded.metadata_removed
    assert {"exif", "xmp", "iptc", "comment", "icc_profile", "trailing"} <= set(removed)
    assert removed["trailing"] == len(TRAILING) and removed["icc_profile"] > 15 * 1024**2  # ICC allows at most 255 chunks: ~16 MB
    assert len(out) <= len(original)  # only metadata went; the image data is the original's


def test_keep_metadata_keeps_the_bytes():
    private = with_private_metadata(KIT_PHOTO.read_bytes(), icc_size=4096)
    decoded, _ = decode_image(private, DecodeConfig(keep_metadata=True))
    assert decoded.jpeg_is_original and decoded.jpeg == private and decoded.metadata_removed == {}


def test_small_icc_profile_is_kept_and_a_large_one_dropped():
    original = KIT_PHOTO.read_bytes()
    small = original[:2] + icc_segments(fake_icc(3000)) + original[2:]
    kept = strip_jpeg_metadata(small, max_icc_bytes=128 * 1024)
    assert "icc_profile" not in kept.removed and icc_segments(fake_icc(3000)) in kept.data
    dropped = strip_jpeg_metadata(small, max_icc_bytes=1000)
    assert dropped.removed["icc_profile"] >= len(icc_segments(fake_icc(3000)))  # (+ the photo's own profile)
    assert b"ICC_PROFILE" not in dropped.data
    assert np.array_equal(pixels(dropped.data), pixels(original))


def test_reencoded_rotated_photo_carries_none_of_it():
    private = with_private_metadata(KIT_PHOTO.read_bytes(), orientation=6)
    decoded, reason = decode_image(private, DecodeConfig())
    assert reason is None and decoded.exif_transposed and not decoded.jpeg_is_original
    for secret in PRIVATE_STRINGS:
        assert secret not in decoded.jpeg, secret
    assert gps_of(decoded.jpeg) == {}
    assert {"exif", "xmp", "comment", "icc_profile"} <= set(decoded.metadata_removed)


def test_unwalkable_structure_is_left_to_the_reencoder():
    assert strip_jpeg_metadata(b"\xff\xd8\xff\xe1\x00", 1000) is None  # segment runs past the end
    assert strip_jpeg_metadata(b"\xff\xd8\xff\xda\x00\x02\x12\x34", 1000) is None  # scan without EOI


def test_entropy_data_ends_at_the_first_real_marker():
    """Stuffed 0xFF00 and RSTn belong to the scan; of a run of 0xFF fill bytes the marker is the last."""
    assert _end_of_entropy_data(b"\x11\xff\x00\x22\xff\xd3\x33\xff\xff\xff\xd9", 0) == 9
    assert _end_of_entropy_data(b"\xff\xd9\x11\xff\xc4", 1) == 3
    assert _end_of_entropy_data(b"\x11\xff\x00\x22\xff", 0) is None  # runs to the end of the file
    assert _end_of_entropy_data(b"\x11\xff\xd7", 0) is None


@pytest.mark.parametrize("options", [{"restart_marker_blocks": 2}, {"progressive": True}])
def test_restart_markers_and_progressive_scans_pass_through_with_identical_pixels(options):
    photo = Image.open(KIT_PHOTO).convert("RGB")
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=90, **options)
    data = buffer.getvalue() + TRAILING
    decoded, reason = decode_image(data, DecodeConfig())
    assert reason is None and decoded.jpeg_is_original
    assert decoded.jpeg.endswith(b"\xff\xd9") and TRAILING not in decoded.jpeg
    np.testing.assert_array_equal(pixels(decoded.jpeg), pixels(data))
