"""The real LAION NSFW Keras export, read without TensorFlow, scores like the real Keras model (kit weights/)."""

from __future__ import annotations

import shutil
import zipfile

import numpy as np
import pytest
import torch

from humanverse.models.clip.nsfw_head import head_for_state, micro_of
from humanverse.models.importers.nsfw_keras import import_nsfw_keras
from humanverse.models.weights_digest import sha256_file
from tests.support.realdata import kit_folder

ZIP_SHA256 = "905520bb0336accc73ee282c605d926aef90cf14248889d44b9cee50eef71f8a"
COLUMNS = [180, 316, 413, 440, 644]
SIZES = [10425, 2266, 2190, 2293, 2241]


@pytest.fixture(scope="module")
def kit():
    return kit_folder("weights")


@pytest.fixture(scope="module")
def imported(kit):
    zip_path = kit / "clip_autokeras_binary_nsfw.zip"
    assert sha256_file(zip_path) == ZIP_SHA256
    state, info = import_nsfw_keras(zip_path)
    head = head_for_state(state)
    head.load_state_dict(state, strict=True)
    return head.eval(), state, info


def test_categorical_columns_and_vocabularies_come_from_the_graph(kit, imported):
    _head, state, info = imported
    assert info["categorical_columns"] == COLUMNS and info["vocabulary_sizes"] == SIZES
    with np.load(kit / "clip_autokeras_binary_nsfw_vocab.npz", allow_pickle=False) as vocab:
        for i, col in enumerate(COLUMNS):
            assert state[f"lookup.vocab_{i}"].tolist() == [micro_of(bytes(s)) for s in vocab[f"col_{col}"]]


@pytest.mark.parametrize("subset", ["fp32", "fp16"])
def test_scores_match_the_real_keras_model_within_1e_5(kit, imported, subset):
    head = imported[0]
    with np.load(kit / "nsfw_keras_reference_predictions.npz", allow_pickle=False) as ref:
        x, expected = ref[f"x_{subset}"], ref[f"keras_pred_{subset}"]
    with torch.no_grad():
        ours = head(torch.from_numpy(x).float()).numpy()
    assert np.abs(ours - expected).max() <= 1e-5
    # negative control: the same head without the lookup is far off on these rows
    no_lookup = head_for_state(imported[1])
    no_lookup.load_state_dict(imported[1], strict=True)
    no_lookup.lookup.columns = torch.zeros(0, dtype=torch.int64)
    with torch.no_grad():
        raw = no_lookup.eval()(torch.from_numpy(x).float()).numpy()
    assert np.abs(raw - expected).max() > 1e-2


def test_lookup_of_the_first_vocabulary_entry_is_one_and_an_unknown_value_zero(kit, imported):
    head = imported[0]
    with np.load(kit / "clip_autokeras_binary_nsfw_vocab.npz", allow_pickle=False) as vocab:
        first = float(vocab["col_180"][0])
    x = torch.zeros(2, 768)
    x[0, 180], x[1, 180] = first, 0.123456789
    assert head.lookup(x)[:, 180].tolist() == [1.0, 0.0]


def test_an_unpacked_folder_imports_the_same_as_the_zip(kit, imported, tmp_path):
    with zipfile.ZipFile(kit / "clip_autokeras_binary_nsfw.zip") as z:
        for info in z.infolist():  # the kit's own trusted zip; names checked anyway
            assert not info.filename.startswith("/") and ".." not in info.filename
        z.extractall(tmp_path)
    state, _ = import_nsfw_keras(tmp_path / "clip_autokeras_binary_nsfw")
    assert all(torch.equal(state[k], imported[1][k]) for k in imported[1])
    shutil.rmtree(tmp_path / "clip_autokeras_binary_nsfw" / "variables")
    with pytest.raises(Exception, match="variables"):
        import_nsfw_keras(tmp_path / "clip_autokeras_binary_nsfw")
