#!/usr/bin/env bash
# Create .venv and install humanverse with everything its tests and demo need. Idempotent: a stamp of the
# install inputs skips pip when nothing changed, so the test command stays fast on a warm machine.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${HUMANVERSE_VENV:-.venv}"
PY="$VENV/bin/python"

[ -x "$PY" ] || python3 -m venv "$VENV"
STAMP="$VENV/.humanverse-install"
WANT=$(cat pyproject.toml scripts/setup.sh scripts/install_mmpose.sh scripts/install_mediapipe.sh scripts/pip_check.sh 2>/dev/null | sha256sum | cut -c1-16)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && "$PY" -c "import humanverse" 2>/dev/null; then
  echo "setup: $VENV is up to date"
  exit 0
fi

echo "setup: installing into $VENV (first time: a few minutes)"
"$PY" -m pip install -q --upgrade pip
# torch first and pinned: on this machine kind these wheels lie on local disk (see ../shared/MACHINE.md);
# elsewhere set TORCH_SPEC to the build you want (e.g. a CPU or CUDA wheel index of your own).
if ! "$PY" -c "import torch, torchvision" 2>/dev/null; then
  # shellcheck disable=SC2086
  "$PY" -m pip install -q ${TORCH_SPEC:-torch==2.14.1 torchvision==0.29.1}
fi
"$PY" -m pip install -q -e ".[test,train]"
bash scripts/install_mmpose.sh "$VENV/bin/pip"
bash scripts/install_mediapipe.sh "$VENV/bin/pip"
# Accepted conflicts (mmpose's chumpy, mediapipe's unused declared dependencies) are named and justified in
# scripts/pip_check.sh; any other conflict is real and stops here.
bash scripts/pip_check.sh "$VENV/bin/pip"
echo "$WANT" > "$STAMP"
echo "setup: done"
