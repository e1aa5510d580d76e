#!/usr/bin/env bash
# Install MMPose 1.1.0 (the `mmpose` pose backend) with the only recipe that works beside torch 2.14.
#
# Why pinned like this (see ../shared/MACHINE.md, "Installing"):
#   - mmpose 1.3.x needs full mmcv, which does not compile against torch 2.14 headers; mmpose 1.1.0 wraps
#     every mmcv.ops import, so mmcv-lite (pure Python) is enough for top-down inference.
#   - the xtcocotools wheel is built for numpy 1.x, so it is built from source against the installed numpy.
#   - mmpose is installed with --no-deps to skip chumpy, which is broken on Python 3.11.
#   - pycocotools is kept out: with transformers 5 it breaks mmpretrain's imports.
#
# Usage: scripts/install_mmpose.sh [path/to/venv/bin/pip]   (default: .venv/bin/pip)
# Idempotent: does nothing when `import mmpose` already works in that venv.
set -euo pipefail

PIP="${1:-.venv/bin/pip}"
PY="$(dirname "$PIP")/python"

if "$PY" -c "import mmpose, mmpretrain, mmengine, xtcocotools" >/dev/null 2>&1; then
  echo "mmpose already importable in $("$PY" -c 'import sys; print(sys.prefix)'): nothing to do"
  exit 0
fi

"$PIP" install "setuptools<81" cython numpy
"$PIP" install --no-build-isolation --no-binary xtcocotools xtcocotools
"$PIP" install mmengine==0.10.7 mmcv-lite==2.1.0 mmpretrain==1.2.0 json_tricks munkres
"$PIP" install --no-deps mmpose==1.1.0

"$PY" -c "import mmpose, mmpretrain; print('mmpose', mmpose.__version__, 'mmpretrain', mmpretrain.__version__)"
# chumpy is skipped on purpose (see above); scripts/pip_check.sh names every accepted conflict.
bash "$(dirname "$0")/pip_check.sh" "$PIP"
