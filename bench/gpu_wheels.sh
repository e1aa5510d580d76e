#!/usr/bin/env bash
# Download, HERE (where PyPI is reachable), the wheels bench/gpu_run.sh installs on a bare GPU machine that
# cannot reach any registry. That machine's image has Python 3.12 with torch, torchvision, transformers, timm,
# accelerate, safetensors, huggingface_hub, numpy, opencv, pillow, pyyaml, scipy, matplotlib, rich, psutil
# and pytest, but not what the stages import beyond them: pydantic (every config), ultralytics (detect),
# mmpose/mmengine/mmcv-lite/mmpretrain (pose), open_clip (clip_scores, and SD-2's tokenizer), diffusers
# (outpaint), and their small pure-Python needs. The list was checked by running `gpu_run.py --device cpu
# --tiny` under `python -S` with only the image's distributions plus these importable (bench/GPU.md).
# Pinned to this project's venv; cp312 manylinux x86-64; --no-deps, so every need is named. ~17 MB.
#
#   bench/gpu_wheels.sh [DEST]      (default bench/.out/wheelhouse, git-ignored; carry it to the machine)
set -euo pipefail
cd "$(dirname "$0")/.."
DEST="${1:-bench/.out/wheelhouse}"
PY="${PY:-.venv/bin/python}"
mkdir -p "$DEST"
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
  -d "$DEST" \
  pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 \
  ultralytics==8.4.190 ultralytics-thop==2.2.3 \
  mmpose==1.1.0 mmengine==0.10.7 mmcv-lite==2.1.0 mmpretrain==1.2.0 \
  addict==2.4.0 yapf==0.43.0 platformdirs==4.14.8 termcolor==3.3.0 munkres==3.0.0 json-tricks==3.17.3 \
  model-index==0.1.11 ordered-set==4.1.0 \
  open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.9.4 \
  diffusers==0.42.1
echo "$(ls "$DEST"/*.whl | wc -l) wheels, $(du -sh "$DEST" | cut -f1) in $DEST"
