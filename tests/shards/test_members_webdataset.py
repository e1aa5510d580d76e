"""16-bit depth and RGB normal members survive plain `webdataset`, when depth is decoded by its own handler.

webdataset's "pil" decoder turns a 16-bit PNG into 8-bit RGB; readers put a handler naming every depth
member first (handle_extension matches whole dotted suffixes, so depth_omnidata.png needs its own entry):
    wds.WebDataset(urls).decode(wds.handle_extension("depth.png depth_omnidata.png", decode_16bit_png), "rgb8")
"""

import io

import numpy as np
import pytest
from PIL import Image

from humanverse.shards.encoding import encode_depth16, encode_normal

wds = pytest.importorskip("webdataset")


def decode_16bit_png(data: bytes) -> np.ndarray:
    """What a reader without our package writes: PIL keeps mode I;16, numpy gives uint16."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im)


def _write(tmp_path, depth, normals):
    png, rng = encode_depth16(depth)
    path = tmp_path / "shard.tar"
    with wds.TarWriter(str(path)) as sink:
        sink.write({"__key__": "s0", "depth.png": png, "depth_omnidata.png": png, "normal.png": encode_normal(normals),
                    "json": {"depth": {**rng, "member": "depth.png"}}})
    return str(path), rng


def test_round_trip_keeps_16_bits_and_normals(tmp_path):
    h, w = 37, 53
    depth = np.linspace(0.1, 7.3, h * w).reshape(h, w)
    n = np.random.default_rng(0).normal(size=(h, w, 3))
    n /= np.linalg.norm(n, axis=-1, keepdims=True)
    url, rng = _write(tmp_path, depth, n)

    depth_handler = wds.handle_extension("depth.png depth_omnidata.png", decode_16bit_png)
    ds = wds.WebDataset(url, shardshuffle=False).decode(depth_handler, "rgb8")
    (sample,) = list(ds)
    d16 = sample["depth.png"]
    assert d16.dtype == np.uint16 and d16.shape == (h, w)
    assert len(np.unique(d16)) > 1000  # far more levels than 8 bits could hold
    restored = d16 / 65535.0 * (sample["json"]["depth"]["max"] - sample["json"]["depth"]["min"]) + sample["json"]["depth"]["min"]
    np.testing.assert_allclose(restored, depth, atol=(7.3 - 0.1) / 65535)
    assert sample["depth_omnidata.png"].dtype == np.uint16  # named in the handler too

    normals = sample["normal.png"].astype(np.float32) / 127.5 - 1.0
    np.testing.assert_allclose(normals, n, atol=1 / 127.5)


def test_default_pil_decoder_loses_the_16_bits(tmp_path):
    """The trap documented above: without the handler, depth arrives as 8-bit RGB."""
    url, _ = _write(tmp_path, np.linspace(0, 1, 400).reshape(20, 20), np.dstack([np.zeros((20, 20, 2)), np.ones((20, 20))]))
    (sample,) = list(wds.WebDataset(url, shardshuffle=False).decode("rgb8"))
    assert sample["depth.png"].dtype == np.uint8
