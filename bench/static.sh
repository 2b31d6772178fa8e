#!/usr/bin/env bash
# Static files: fastcore vs nginx and Granian (see bench/static.py). QUICK=1: correctness only.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null 2>&1 || { echo "[static] wrk is required (apt-get install wrk)" >&2; exit 1; }
exec "${PYTHON:-.venv-313t/bin/python}" bench/static.py
