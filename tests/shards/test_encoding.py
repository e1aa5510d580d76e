import numpy as np
import pytest

from humanverse.shards.encoding import decode_depth16, decode_normal, encode_depth16, encode_normal


def test_depth_roundtrip_keeps_16_bits_and_range():
    d = np.linspace(0.5, 3.0, 64 * 48).reshape(48, 64)
    png, rng = encode_depth16(d)
    back = decode_depth16(png)
    assert back.shape == (48, 64)
    assert rng == {"min": pytest.approx(0.5), "max": pytest.approx(3.0)}
    assert np.abs(back * (rng["max"] - rng["min"]) + rng["min"] - d).max() < 3.0 / 65535 * 2
    assert len(np.unique(back)) > 256  # really 16-bit


def test_normal_roundtrip_within_quantisation():
    rng = np.random.default_rng(0)
    n = rng.normal(size=(10, 12, 3))
    n /= np.linalg.norm(n, axis=2, keepdims=True)
    back = decode_normal(encode_normal(n))
    assert np.abs(back - n).max() <= 1 / 127.5 + 1e-6


def test_flat_depth_and_bad_shapes():
    png, rng = encode_depth16(np.ones((4, 4)))
    assert rng["min"] == rng["max"] == 1.0 and decode_depth16(png).max() == 0
    with pytest.raises(ValueError):
        encode_depth16(np.ones((4, 4, 3)))
    with pytest.raises(ValueError):
        encode_normal(np.ones((4, 4)))
