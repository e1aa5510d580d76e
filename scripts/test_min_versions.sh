#!/usr/bin/env bash
# Install the dependency floors declared in pyproject.toml (exactly those versions) in a scratch venv and run
# the trainer tests against them. Run it before landing a change to a floor, and record the result in the
# README ("Dependency floors"). It downloads from PyPI and takes minutes, so it is in no CI run.
#
#   bash scripts/test_min_versions.sh                 # the trainer tests (tests/train)
#   bash scripts/test_min_versions.sh -k two_stage    # extra pytest arguments
#
# torch is not reinstalled: the scratch venv sees the project venv's packages through a .pth file placed
# after its own site-packages, so only the floors (and whatever they need at other versions) go into it.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_VENV="${HUMANVERSE_VENV:-.venv}"
SCRATCH="${SCRATCH_VENV:-${TMPDIR:-/tmp}/humanverse-min-versions}"
# The packages whose floors are tested; each must appear in pyproject.toml as "name>=X" (the floor is X).
FLOOR_PACKAGES=(diffusers open_clip_torch transformers protobuf)

BASE_SITE=$("$BASE_VENV/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
mapfile -t PINS < <("$BASE_VENV/bin/python" - "${FLOOR_PACKAGES[@]}" <<'PY'
import re, sys, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for name in sys.argv[1:]:
    found = [d for d in deps if re.match(rf"^{re.escape(name)}\s*>=", d, re.I)]
    if not found:
        sys.exit(f"pyproject.toml declares no floor for {name}")
    floor = re.search(r">=\s*([^,;\s]+)", found[0]).group(1)
    print(f"{name}=={floor}")
PY
)
echo "min-versions: floors ${PINS[*]}"
[ -x "$SCRATCH/bin/python" ] || "$BASE_VENV/bin/python" -m venv "$SCRATCH"
SCRATCH_SITE=$("$SCRATCH/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$BASE_SITE" > "$SCRATCH_SITE/zz_humanverse_base_venv.pth"   # after the scratch's own packages
# pip sees the base venv's packages as installed; it installs what differs into the scratch venv only
# ("not uninstalling ... outside environment") and never touches the base venv.
"$SCRATCH/bin/python" -m pip install -q "${PINS[@]}"
"$SCRATCH/bin/python" - "${PINS[@]}" <<'PY'
import sys
from importlib.metadata import version
for pin in sys.argv[1:]:
    name, want = pin.split("==")
    got = version(name)
    assert got == want, f"{name}: {got} imported, {want} wanted"
    print(f"min-versions: {name} {got}")
PY
# The editable install in the base venv points elsewhere; test this checkout.
PYTHONPATH="$PWD" OMP_NUM_THREADS=1 HF_HUB_OFFLINE=1 "$SCRATCH/bin/python" -m pytest -q -p no:cacheprovider \
  -m "not slow" tests/train "$@"
