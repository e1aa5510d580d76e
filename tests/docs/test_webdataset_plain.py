"""docs/snippets/webdataset_plain.py, the plain-webdataset recipe docs/loading.md quotes: every member curate
writes decodes as stored (16-bit depth of every model, single-channel masks), and a hostile shard's pickle,
torch and gzip members are never read, while the recipe the docs gave before ran the pickle."""

from __future__ import annotations

import glob
import importlib.util
import io
import tarfile
from pathlib import Path

import numpy as np
import webdataset as wds
from PIL import Image

from humanverse.shards.encoding import decode_depth16
from humanverse.shards.members import EVERY_MEMBER, member_kind
from tests.support.every_member import expected_arrays, write_hostile_shard

SNIPPET = Path(__file__).resolve().parents[2] / "docs" / "snippets" / "webdataset_plain.py"


def load_snippet():
    spec = importlib.util.spec_from_file_location("webdataset_plain", SNIPPET)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw(url: str, name: str) -> bytes:
    with tarfile.open(url) as tar:
        return tar.extractfile(name).read()


def test_every_member_decodes_as_stored(every_member_run):
    recipe = load_snippet()
    urls = sorted(glob.glob(f"{every_member_run}/shards/*.tar"))
    samples = list(recipe.humanverse_webdataset(urls))
    assert len(samples) == 6
    for s in samples:
        assert set(s) - {"__key__", "__url__", "__local_path__"} == set(EVERY_MEMBER)
        seed = int(s["__key__"][5:])
        for suffix in EVERY_MEMBER:
            value, kind = s[suffix], member_kind(suffix)
            raw = _raw(s["__url__"], f"{s['__key__']}.{suffix}")
            if kind == "depth16":
                assert value.dtype == np.float32 and value.shape == (24, 32), suffix
                assert len(np.unique(value)) > 256, suffix  # 16 bits kept (8 bits hold at most 256 levels)
                np.testing.assert_array_equal(value, decode_depth16(raw))
            elif kind in ("probability8", "classes8", "binary8"):
                assert value.dtype == np.uint8 and value.shape == (24, 32), suffix  # one channel, as stored
            elif kind in ("rgb", "normal"):
                assert isinstance(value, Image.Image) and value.mode == "RGB", suffix
            elif kind == "json":
                assert isinstance(value, dict), suffix
            else:
                assert kind == "text" and value == f"person {seed}"
        truth = expected_arrays(seed)
        np.testing.assert_array_equal(s["parts.png"], truth["parts"])
        np.testing.assert_array_equal(s["hand_mask.png"] == 255, truth["hand_mask"])
        np.testing.assert_allclose(s["mask.png"] / 255.0, truth["mask"], atol=0.5 / 255)


def test_the_old_recipe_lost_what_the_new_one_keeps(every_member_run):
    """What docs/loading.md said before: a handler for depth.png alone, then "pil"."""
    url = sorted(glob.glob(f"{every_member_run}/shards/*.tar"))[0]
    old = next(iter(wds.WebDataset(url, shardshuffle=False).decode(
        wds.handle_extension("depth.png", decode_depth16), "pil")))
    assert old["mask.png"].mode == "RGB" and old["parts.png"].mode == "RGB"  # documented as L
    assert old["depth_omnidata.png"].mode == "RGB"  # 16-bit depth truncated to 8 bits


def test_a_hostile_shard_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    url = write_hostile_shard(tmp_path / "hostile.tar", marker)
    (sample,) = list(load_snippet().humanverse_webdataset([url]))
    assert not marker.exists()
    assert set(sample) - {"__key__", "__url__", "__local_path__"} == {"jpg", "json"}  # pyd, pickle, pth, gz dropped


def test_the_old_recipe_ran_a_pickle_member(tmp_path):
    """The regression the allow-list closes: webdataset's default handlers unpickle a .pyd member."""
    marker = tmp_path / "pwned"
    url = write_hostile_shard(tmp_path / "hostile.tar", marker, gz_bytes=1 << 20, hostile=("pyd", "txt.gz"))
    old = next(iter(wds.WebDataset(url, shardshuffle=False).decode(
        wds.handle_extension("depth.png", decode_depth16), "pil")))
    assert marker.read_text() == "pickle ran"
    assert len(old["txt.gz"]) == 1 << 20  # .gz inflated, whatever its size


def test_webdataset_does_not_expand_a_star(every_member_run):
    """Why the docs pass a sorted glob (or a brace pattern): "shards/*.tar" is not a file webdataset finds."""
    import pytest

    with pytest.raises(Exception):
        list(load_snippet().humanverse_webdataset(f"{every_member_run}/shards/*.tar"))
    braces = f"{every_member_run}/shards/00000-{{00000..00001}}.tar"
    assert len(list(load_snippet().humanverse_webdataset(braces))) == 6
