"""A pulled training run's run.json and checkpoint state are read as untrusted files: a deep, huge or
non-object file is a ValueError naming it (the CLI's exit 2), never a RecursionError or a read of everything."""

from __future__ import annotations

import json

import pytest

from humanverse.train.common.checkpoints import read_run_record, read_state


def test_a_run_record_is_read_as_an_object(tmp_path):
    (tmp_path / "run.json").write_text(json.dumps({"config": {"data": {"resolution": 32}}}))
    assert read_run_record(tmp_path)["config"]["data"]["resolution"] == 32


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, "[1, 2]", "not json"])
def test_a_hostile_run_record_is_a_clear_error(tmp_path, text):
    (tmp_path / "run.json").write_text(text)
    with pytest.raises(ValueError, match="run.json"):
        read_run_record(tmp_path)


def test_a_missing_run_record_or_state_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="training run folder"):
        read_run_record(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a complete checkpoint"):
        read_state(tmp_path)
