"""Square inputs and back: a map returns to the image's own pixels, whatever its shape."""

import numpy as np
import pytest
import torch

from humanverse.models.dense.dense_io import back_to_images, to_square_batch


def _gradient_image(h, w):
    xs = np.linspace(0, 255, w, dtype=np.float32)[None, :].repeat(h, 0)
    ys = np.linspace(0, 255, h, dtype=np.float32)[:, None].repeat(w, 1)
    return np.stack([xs, ys, np.zeros_like(xs)], -1).astype(np.uint8)


@pytest.mark.parametrize("mode", ["stretch", "pad"])
@pytest.mark.parametrize("shape", [(120, 200), (200, 90), (64, 64)])
def test_identity_model_returns_the_image_at_its_size(mode, shape):
    img = _gradient_image(*shape)
    x, regions = to_square_batch([img], 96, mode, 0.0, 1.0)
    assert x.shape == (1, 3, 96, 96)
    # a "model" that predicts at half resolution, to exercise the proportional crop
    half = torch.nn.functional.interpolate(x, scale_factor=0.5, mode="bilinear", align_corners=False)
    (back,) = back_to_images(half, regions, [shape], 96)
    assert back.shape == (*shape, 3)
    assert np.abs(back[..., :2] * 255 - img[..., :2]).mean() < 6.0


def test_pad_keeps_aspect_and_centres_the_image():
    img = np.full((50, 100, 3), 255, np.uint8)
    x, [(x0, y0, x1, y1)] = to_square_batch([img], 100, "pad", 0.0, 1.0)
    assert (x0, x1) == (0, 100) and (y1 - y0) == 50 and y0 == 25
    assert x[0, :, :y0].abs().max() == 0 and x[0, :, y0:y1].min() > 0.99


def test_read_only_pixels_give_no_warning():
    """Decoded images are often read-only views; torch.from_numpy warned on each (issue 31 item 9)."""
    import warnings

    img = np.zeros((20, 30, 3), np.uint8)
    img.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch, _ = to_square_batch([img], 16, "pad", 0.5, 0.5)
    assert batch.shape == (1, 3, 16, 16)
