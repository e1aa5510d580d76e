"""decode_image(digest_original=False), the fetch path: a kept original JPEG is checked by a 1/8-scale decode
and not digested. The outputs are the full decode's (bytes, size, what was removed), and broken JPEGs fail
with the same reason, because the scaled decode still reads every coded bit."""

import io
import random

import numpy as np
import pytest
from PIL import ExifTags, Image

from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.imaging.pixel_digest import pixel_digest
from tests.support.realdata import PEOPLE

PHOTOS = sorted(PEOPLE.glob("*.jpg"))[:4]


def lean(data: bytes, checked: bool):
    return decode_image(data, DecodeConfig(), keep_pixels=False, digest_definition="xxh3_128",
                        digest_original=not checked)


def jpeg(array: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


@pytest.mark.skipif(not PHOTOS, reason="shared real photos not present")
@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_a_kept_original_is_only_checked_and_its_outputs_are_the_full_decodes(photo):
    data = photo.read_bytes()
    full, _ = lean(data, checked=False)
    checked, reason = lean(data, checked=True)
    assert reason is None and checked.jpeg_is_original and full.jpeg_is_original
    assert checked.rgb is None and checked.pixels_digest is None and full.pixels_digest is not None
    assert (checked.jpeg, checked.width, checked.height, checked.metadata_removed, checked.source_mode) == (
        full.jpeg, full.width, full.height, full.metadata_removed, full.source_mode)
    # the later reader's digest (stages/perceptual_hash.py) is the one the full decode took
    with Image.open(io.BytesIO(checked.jpeg)) as stored:
        assert pixel_digest(np.asarray(stored.convert("RGB")), "xxh3_128") == full.pixels_digest


def test_images_that_are_reencoded_still_get_their_source_digest_at_decode():
    array = np.random.default_rng(3).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    png = io.BytesIO()
    Image.fromarray(array).save(png, "PNG")
    for data in (jpeg(array, exif=exif.tobytes()), png.getvalue()):
        full, _ = decode_image(data, DecodeConfig())
        checked, _ = lean(data, checked=True)
        assert not checked.jpeg_is_original
        assert checked.pixel_digest("xxh3_128") == pixel_digest(full.rgb, "xxh3_128")
        assert checked.jpeg == full.jpeg


def broken_copies(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    copies = [data[: int(len(data) * f)] for f in (0.2, 0.5, 0.9, 0.995)]
    for _ in range(4):
        flipped = bytearray(data)
        flipped[rng.randrange(len(data) // 4, len(data) - 2)] ^= 1 << rng.randrange(8)
        copies.append(bytes(flipped))
    garbage = bytearray(data)
    at = rng.randrange(len(data) // 4, len(data) - 200)
    garbage[at:at + 150] = bytes(rng.randrange(256) for _ in range(150))
    return copies + [bytes(garbage)]


@pytest.mark.parametrize("progressive", [False, True])
def test_broken_jpegs_fail_as_in_a_full_decode(progressive):
    """Truncations, flipped bits and garbage in the coded data of a baseline and a progressive JPEG: the same
    outcome and reason from the check as from the full decode (the truncations at least must fail)."""
    yy, xx = np.mgrid[0:240, 0:320]
    array = np.stack([xx % 256, yy % 256, (xx * yy) % 256], axis=-1).astype(np.uint8)
    data = jpeg(array, progressive=progressive)
    outcomes = []
    for copy in broken_copies(data, seed=int(progressive)):
        full, full_reason = lean(copy, checked=False)
        checked, checked_reason = lean(copy, checked=True)
        assert (full is None, full_reason) == (checked is None, checked_reason)
        if full is not None:
            assert checked.jpeg == full.jpeg
        outcomes.append(full_reason)
    assert outcomes[:3] == ["truncated"] * 3
