"""Every Python block of the README and docs/loading.md is code that runs: a file in docs/snippets/ (run here,
in a fresh process, from a folder whose `out/` is a run holding every member curate writes, with one sample
marked a duplicate), or an export card's own lines (run by tests/train/export). Snippets that promise no
humanverse run with humanverse unimportable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from humanverse.train.export.run_export import loading_lines

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = ROOT / "docs" / "snippets"
DOCUMENTS = [ROOT / "README.md", ROOT / "docs" / "loading.md"]
WITHOUT_HUMANVERSE = {"webdataset_plain.py", "hf_datasets.py", "sidecars_duckdb.py", "duplicates.py"}
RUN = """import runpy, sys
if sys.argv[2] == "block":
    sys.modules["humanverse"] = None  # any humanverse import now fails
runpy.run_path(sys.argv[1], run_name="__main__")
"""


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("if __name__")]


def _contains(code: str, block: str) -> bool:
    have, want = _lines(code), _lines(block)
    return any(have[i:i + len(want)] == want for i in range(len(have) - len(want) + 1))


def _tested_code() -> dict[str, str]:
    code = {p.name: p.read_text() for p in sorted(SNIPPETS.glob("*.py"))}
    code["export card (refiner)"] = loading_lines("refiner", "export/refiner", "depth 1, normal 3, pose 3",
                                                  ["condition_embedding/condition_embedding.py"])
    code["export card (lsd)"] = loading_lines("lsd", "export/lsd", "rgb, depth, normal",
                                              ["unet/expert_branch_unet.py", "pipeline_hyperhuman_lsd.py"])
    return code


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_every_python_block_is_tested_code(document):
    blocks = re.findall(r"```python\n(.*?)```", document.read_text(), re.S)
    assert blocks
    code = _tested_code()
    untested = [block for block in blocks if not any(_contains(text, block) for text in code.values())]
    assert not untested, f"{document.name}: blocks that are in no docs/snippets file:\n" + "\n---\n".join(untested)


@pytest.fixture(scope="module")
def run_folder(every_member_run, tmp_path_factory) -> Path:
    """cwd/out: the every-member run (shards and card linked) with its first sample marked a duplicate."""
    cwd = tmp_path_factory.mktemp("snippet_cwd")
    out = cwd / "out"
    out.mkdir()
    for name in ("shards", "README.md", "run.json"):
        (out / name).symlink_to(Path(every_member_run) / name)
    (out / "dedup").mkdir()
    pq.write_table(pa.table({"key": ["00000000000000"], "task_id": ["00000-00000"], "duplicate_of": ["00000000000001"]}),
                   out / "dedup" / "duplicates.parquet")
    return cwd


EXPECTED = {"webdataset_plain.py": "depth_omnidata.png", "shard_dataset.py": "samples:", "hf_datasets.py":
            "5 samples; 6 sidecar rows", "sidecars_duckdb.py": "reason", "sidecars_pyarrow.py": "0 rows",
            "duplicates.py": "1 duplicates marked"}


@pytest.mark.parametrize("snippet", sorted(p.name for p in SNIPPETS.glob("*.py")))
def test_snippet_runs(snippet, run_folder, tmp_path):
    env = {"PATH": os.environ["PATH"], "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "HF_HOME": str(tmp_path / "hf"), "PYTHONPATH": str(ROOT)}
    mode = "block" if snippet in WITHOUT_HUMANVERSE else "allow"
    done = subprocess.run([sys.executable, "-c", RUN, str(SNIPPETS / snippet), mode], cwd=run_folder, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert EXPECTED[snippet] in done.stdout, done.stdout[-2000:]
    if snippet == "webdataset_plain.py":  # the marked duplicate is skipped
        keys = [line.split()[0] for line in done.stdout.splitlines() if line[:14].isdigit()]
        assert len(keys) == 5 and "00000000000000" not in keys
    if snippet == "shard_dataset.py":
        assert sum(int(line.split()[0]) for line in done.stdout.splitlines() if "samples:" in line) == 5
