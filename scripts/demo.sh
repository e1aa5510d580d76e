#!/usr/bin/env bash
# The main job on a fresh machine: install, then a real `humanverse curate` of demo photos served on
# 127.0.0.1, on an embedded local Ray, with the demo preset (untrained models; it says so).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
OUT="${1:-demo-out}"
IMAGES=()
# The project's shared evaluation photos, when this checkout has them beside it (research-only images:
# read in place, never copied into the repo). Otherwise the photos inside the ultralytics package.
if [ -d ../shared/realdata/people ]; then IMAGES=(--images ../shared/realdata/people); fi
exec .venv/bin/humanverse demo --output "$OUT" "${IMAGES[@]}"
