"""The exact-dedup pixel digest is the same whichever way it is computed: from the upright RGB array, or
from Pillow's decoded image on the fetch path (which then builds no array)."""

import io

import numpy as np
import pytest
from PIL import Image

from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.imaging.pixel_digest import image_pixel_sha256, pixel_sha256
from tests.support.realdata import PEOPLE

PHOTOS = sorted(PEOPLE.glob("*.jpg"))[:6]


def jpeg(array: np.ndarray, **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, "JPEG", quality=90, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("shape", [(1, 1), (7, 5), (700, 1300)])  # 700 x 1300 spans several encoder blocks
def test_image_digest_equals_the_array_digest(shape):
    array = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert image_pixel_sha256(Image.fromarray(array)) == pixel_sha256(array)
    flipped = array.copy()
    flipped[-1, -1, -1] ^= 1  # one bit of the last pixel: a different digest
    assert image_pixel_sha256(Image.fromarray(flipped)) != pixel_sha256(array)


def test_image_digest_refuses_other_modes():
    with pytest.raises(ValueError, match="RGB"):
        image_pixel_sha256(Image.new("L", (4, 4)))


@pytest.mark.skipif(not PHOTOS, reason="shared real photos not present")
@pytest.mark.parametrize("photo", PHOTOS, ids=lambda p: p.name)
def test_fetch_path_digest_matches_the_full_decode_without_building_the_array(photo):
    data = photo.read_bytes()
    full, _ = decode_image(data, DecodeConfig())
    lean, _ = decode_image(data, DecodeConfig(), keep_pixels=False)
    assert lean.pixel_sha256() == pixel_sha256(full.rgb) == full.pixel_sha256()
    assert (lean.width, lean.height, lean.jpeg) == (full.width, full.height, full.jpeg)
    if full.jpeg_is_original:
        assert lean.rgb is None
    else:
        assert lean.rgb is not None


def test_rotated_and_reencoded_images_hash_their_upright_pixels_on_the_fetch_path():
    from PIL import ExifTags

    array = np.random.default_rng(1).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    for data in (jpeg(array, exif=exif.tobytes()), jpeg(array, progressive=True)):
        full, _ = decode_image(data, DecodeConfig())
        lean, _ = decode_image(data, DecodeConfig(), keep_pixels=False)
        assert lean.pixel_sha256() == pixel_sha256(full.rgb)
        assert (lean.width, lean.height) == (full.width, full.height)
    png = io.BytesIO()
    Image.fromarray(array).save(png, "PNG")
    lean, _ = decode_image(png.getvalue(), DecodeConfig(), keep_pixels=False)
    assert lean.rgb is not None and lean.pixel_sha256() == pixel_sha256(array)  # lossless: the source's pixels


@pytest.mark.parametrize("orientation", range(1, 9))
def test_rotated_photos_turned_by_pillow_give_the_array_paths_bytes_and_digest(orientation):
    """The fetch path turns a rotated RGB photo with Pillow (no array); its JPEG, digest and size are the
    array path's, and nothing of the source (its comment, EXIF) reaches the re-encoded JPEG."""
    from PIL import ExifTags

    array = np.random.default_rng(orientation).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "a camera"
    data = jpeg(array, exif=exif.tobytes(), comment=b"who took it")
    full, _ = decode_image(data, DecodeConfig())
    lean, _ = decode_image(data, DecodeConfig(), keep_pixels=False)
    assert lean.pixel_sha256() == pixel_sha256(full.rgb)
    assert (lean.jpeg, lean.width, lean.height, lean.metadata_removed, lean.exif_transposed) == (
        full.jpeg, full.width, full.height, full.metadata_removed, full.exif_transposed)
    assert b"who took it" not in lean.jpeg and b"a camera" not in lean.jpeg
    assert lean.jpeg_is_original == (orientation == 1)
