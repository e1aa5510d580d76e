#!/usr/bin/env bash
# The test command: install what is missing, then the suite (full-size model builds are marked slow and
# run with `scripts/test.sh -m slow`). pytest exits 5 when nothing ran, which fails this script too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/install_browser.sh   # Debian chromium, for the HTML report tests
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 RAY_AUTH_MODE=disabled RAY_USAGE_STATS_ENABLED=0
if [ "$#" -eq 0 ]; then set -- -m "not slow"; fi
# Two pytest workers (pytest-xdist): much of the suite waits on Ray start-up, subprocesses and deadlines, so two
# share this 2-core machine well. HV_TEST_WORKERS=0 runs it in one process (e.g. to debug a test).
exec .venv/bin/python -m pytest -q --timeout=900 -n "${HV_TEST_WORKERS:-2}" --dist worksteal "$@"
