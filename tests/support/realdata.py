"""Where the shared real data lies: one lookup for every test (the accuracy harness's own, so tests and
bench/accuracy.py read the same photos).

`kit_folder(name)` is how a test asks for a kit sub-folder (`weights/`, `hands/`): when it is missing the test
FAILS with what to put where, because a test that silently skips proves nothing about the real files."""

from pathlib import Path

import pytest

from humanverse.accuracy.ground_truth import people_dir

try:
    REALDATA = people_dir().parent
except FileNotFoundError:
    REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"
PEOPLE = REALDATA / "people"
BAD = REALDATA / "bad"
METADATA = REALDATA / "metadata"
WEIGHTS = REALDATA / "weights"
HANDS = REALDATA / "hands"


def kit_folder(name: str, root: Path | None = None) -> Path:
    """The kit's sub-folder NAME; fails the calling test (never skips) when it is not there."""
    folder = (root or REALDATA) / name
    if not folder.is_dir():
        pytest.fail(f"real-data kit folder {folder} is missing: this test checks the real published files; "
                    f"copy the kit's {name}/ (see {REALDATA / 'MANIFEST.md'}) there", pytrace=False)
    return folder
