#!/usr/bin/env bash
# One command: set everything up (including chromium and poppler for the browser and PDF
# tests) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
exec .venv/bin/python -m pytest "$@"
