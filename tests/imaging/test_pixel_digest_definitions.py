"""Both pixel digest definitions (imaging/pixel_digest.py) hash the same header and bytes: each is the same
whichever way it is computed, and the fetch path computes the definition it is asked for."""

import hashlib

import numpy as np
import pytest
import xxhash
from PIL import Image

from humanverse.imaging.decode import DecodeConfig, decode_image
from humanverse.imaging.pixel_digest import DEFINITIONS, column_name, image_pixel_digest, pixel_digest
from tests.imaging.test_pixel_digest import jpeg


@pytest.mark.parametrize("definition", DEFINITIONS)
@pytest.mark.parametrize("shape", [(1, 1), (700, 1300)])  # 700 x 1300 spans several encoder blocks
def test_each_definition_is_the_same_from_the_image_and_the_array(definition, shape):
    array = np.random.default_rng(0).integers(0, 256, (*shape, 3), dtype=np.uint8)
    assert image_pixel_digest(Image.fromarray(array), definition) == pixel_digest(array, definition)
    flipped = array.copy()
    flipped[-1, -1, -1] ^= 1
    assert pixel_digest(flipped, definition) != pixel_digest(array, definition)


def test_the_definitions_hash_the_same_header_and_bytes():
    array = np.random.default_rng(2).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    data = b"5x7x3:" + array.tobytes()
    assert pixel_digest(array, "sha256") == hashlib.sha256(data).hexdigest()
    assert pixel_digest(array, "xxh3_128") == xxhash.xxh3_128(data).hexdigest()
    assert [column_name(d) for d in DEFINITIONS] == ["pixel_sha256", "pixel_xxh3_128"]
    with pytest.raises(ValueError, match="md5"):
        pixel_digest(array, "md5")


@pytest.mark.parametrize("orientation", [1, 6])  # the original kept (Pillow's image hashed) and Pillow's turn
def test_the_fetch_path_computes_the_definition_asked_for(orientation):
    from PIL import ExifTags

    array = np.random.default_rng(orientation).integers(0, 256, (37, 53, 3), dtype=np.uint8)
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    data = jpeg(array, exif=exif.tobytes())
    full, _ = decode_image(data, DecodeConfig())
    lean, _ = decode_image(data, DecodeConfig(), keep_pixels=False, digest_definition="xxh3_128")
    assert lean.rgb is None and lean.pixel_digest("xxh3_128") == pixel_digest(full.rgb, "xxh3_128")
    assert full.pixel_digest("xxh3_128") == pixel_digest(full.rgb, "xxh3_128")
    with pytest.raises(ValueError, match="not kept"):  # the other definition would need the pixels again
        lean.pixel_digest("sha256")


def test_xxh3_128_is_the_stable_xxh3():
    """Digests are compared across the shards of one run, possibly written by several installs: XXH3 is
    stable since xxHash 0.8.0 (python-xxhash 2.0, pyproject's floor). The empty input's XXH3_128 is the
    reference value of xxHash's own sanity checks; the second value was computed here and must not move."""
    assert xxhash.xxh3_128(b"").hexdigest() == "99aa06d3014798d86001c324468d497f"
    array = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
    assert pixel_digest(array, "xxh3_128") == "c91dab9817feeb437956281a53629cda"
