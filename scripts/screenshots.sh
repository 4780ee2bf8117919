#!/usr/bin/env bash
# Regenerate the pictures of the README (docs/screenshots/*.png): the end-to-end suite (tests/e2e)
# runs its journeys on a fresh demo practice and saves them there instead of test-artifacts/e2e/.
# Needs Chromium and pdftoppm (make screenshots installs them with scripts/system-deps.sh).
# CI=true: a missing browser fails here rather than skipping every journey.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p docs/screenshots
SCREENSHOTS_DIR="$PWD/docs/screenshots" CI=true "$PY" -m pytest tests/e2e -q -p no:cacheprovider "$@"
echo "Screenshots written to docs/screenshots/:"
ls -1 docs/screenshots/*.png
