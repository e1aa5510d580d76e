#!/usr/bin/env bash
# One command on one H100 or H200: install the carried wheels, then build the humanverse preset's models
# (random weights, real sizes), time every GPU stage at the preset's batch sizes, and write
# bench/GPU_RESULTS.md (+ .json) with GPU seconds per kept image and num_gpus fractions that fit one GPU.
# Ends within 8 minutes: gpu_run.py starts no stage after --budget-s (420 s), and this script stops it at 470 s.
#
# Prepare here:  bench/gpu_wheels.sh            (wheels into bench/.out/wheelhouse, ~17 MB)
# On the GPU:    bench/gpu_run.sh [gpu_run.py flags]   with bench/.out/wheelhouse carried along;
#                results are also copied to $OUT when that is set.
# CPU check:     bench/gpu_run.sh --device cpu --tiny
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python
WHEELS="${HV_WHEELHOUSE:-bench/.out/wheelhouse}"
SITE="${HV_SITE:-/tmp/humanverse-gpu-site}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
missing() {  # the modules some stage imports that this Python cannot find; prints them, fails if any
  "$PY" - <<'PY'
import importlib.util, sys
need = ["torch", "numpy", "PIL", "cv2", "yaml", "pydantic", "transformers", "timm", "ultralytics", "mmpose",
        "mmengine", "mmcv", "mmpretrain", "open_clip", "diffusers"]
gone = [n for n in need if importlib.util.find_spec(n) is None]
print(" ".join(gone))
sys.exit(1 if gone else 0)
PY
}
if ! gone=$(missing); then
  if compgen -G "$WHEELS/*.whl" >/dev/null; then
    echo "gpu_run.sh: installing the carried wheels for: $gone"
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$SITE" "$WHEELS"/*.whl \
      || { echo "gpu_run.sh: installing the wheels in $WHEELS failed (see above)" >&2; exit 2; }
    export PYTHONPATH="$PYTHONPATH:$SITE"  # none of the wheels is in the image, so nothing of its own is shadowed
  fi
  if ! gone=$(missing); then
    echo "gpu_run.sh: cannot import $gone. Run bench/gpu_wheels.sh where PyPI is reachable and carry" \
         "$WHEELS (or set HV_WHEELHOUSE); the stages needing them cannot be timed." >&2
    exit 2
  fi
fi
PYTHONUNBUFFERED=1 timeout 470 "$PY" bench/gpu_run.py "$@"
rc=$?
if [ -n "${OUT:-}" ] && [ -d "${OUT:-}" ]; then cp bench/GPU_RESULTS.md bench/GPU_RESULTS.json "$OUT"/ 2>/dev/null; fi
exit $rc
