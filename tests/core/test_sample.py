import io
import pickle

import numpy as np
from PIL import Image

from humanverse.core.sample import Sample


def jpeg_of(rgb):
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def test_pixels_of_jpeg_are_not_shipped_and_come_back_identical():
    rgb = np.random.default_rng(0).integers(0, 255, (64, 80, 3), dtype=np.uint8)
    s = Sample(key="k", task_id="t", source={})
    data = jpeg_of(rgb)
    s.set_decoded(data, None)
    first = s.image  # decoded lazily from the jpeg
    assert first.shape == (64, 80, 3)
    blob = pickle.dumps(s)
    assert len(blob) < len(data) + 2000  # the array did not travel
    back = pickle.loads(blob)
    assert np.array_equal(back.image, first)


def test_replaced_pixels_are_shipped_as_they_are():
    s = Sample(key="k", task_id="t", source={})
    s.set_decoded(jpeg_of(np.zeros((8, 8, 3), np.uint8)), None)
    canvas = np.full((16, 16, 3), 7, np.uint8)
    s.image = canvas  # e.g. an outpainting canvas: not the jpeg's pixels
    back = pickle.loads(pickle.dumps(s))
    assert np.array_equal(back.image, canvas)


def test_init_with_image_and_dropped_pixels():
    img = np.ones((4, 4, 3), np.uint8)
    s = Sample(key="k", task_id="t", source={}, image=img)
    assert s.image is img
    s.reject("x", "y")
    assert s.image is None and s.jpeg is None
    assert Sample(key="k", task_id="t", source={}).image is None
