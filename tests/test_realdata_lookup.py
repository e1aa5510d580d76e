"""The kit lookup fails a test (never skips it) when the sub-folder it needs is missing."""

import pytest

from tests.support.realdata import kit_folder


@pytest.mark.parametrize("name", ["weights", "hands"])
def test_missing_kit_folder_fails_the_test_instead_of_skipping(tmp_path, name):
    with pytest.raises(pytest.fail.Exception, match=f"{name}/"):
        kit_folder(name, root=tmp_path)


def test_present_kit_folder_is_returned(tmp_path):
    (tmp_path / "weights").mkdir()
    assert kit_folder("weights", root=tmp_path) == tmp_path / "weights"
