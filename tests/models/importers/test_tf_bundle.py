"""The TensorFlow checkpoint reader on the real NSFW export's variables/ (kit weights/), and on damaged copies:
every damage is a clear error, never a wrong array."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from humanverse.models.importers.tf_bundle import read_bundle, read_index
from tests.support.realdata import kit_folder

PREFIX = "clip_autokeras_binary_nsfw/variables/variables"


@pytest.fixture(scope="module")
def bundle():
    with zipfile.ZipFile(kit_folder("weights") / "clip_autokeras_binary_nsfw.zip") as z:
        return z.read(PREFIX + ".index"), z.read(PREFIX + ".data-00000-of-00001")


def test_the_real_bundle_reads_with_dtypes_and_shapes(bundle):
    arrays = read_bundle(*bundle[:1], [bundle[1]])
    key = "layer_with_weights-2/kernel/.ATTRIBUTES/VARIABLE_VALUE"
    assert arrays[key].shape == (768, 64) and arrays[key].dtype == np.float32
    assert int(arrays["layer_with_weights-1/count/.ATTRIBUTES/VARIABLE_VALUE"]) == 242067  # the kit's count
    assert arrays["layer_with_weights-0/encoding_layers/180/token_counts/.ATTRIBUTES/table-keys"].shape == (0,)


def test_damaged_files_are_refused(bundle):
    index, data = bundle
    with pytest.raises(ValueError, match="magic"):
        read_index(index[:-1] + b"\x00")
    with pytest.raises(ValueError):
        read_index(index[: len(index) // 2])
    with pytest.raises(ValueError, match="runs past"):
        read_bundle(index, [data[:1000]])
