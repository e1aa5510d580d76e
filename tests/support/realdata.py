"""Where the shared real data lies: one lookup for every test (the accuracy harness's own, so tests and
bench/accuracy.py read the same photos). Tests that need it skip with a reason when it is absent."""

from pathlib import Path

from humanverse.accuracy.ground_truth import people_dir

try:
    REALDATA = people_dir().parent
except FileNotFoundError:
    REALDATA = Path(__file__).resolve().parents[3] / "shared" / "realdata"  # absent: tests skip on it
PEOPLE = REALDATA / "people"
BAD = REALDATA / "bad"
METADATA = REALDATA / "metadata"
HANDS = REALDATA / "hands"
