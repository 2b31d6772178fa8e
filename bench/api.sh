#!/usr/bin/env bash
# API benchmark (issue 9, item 14): a realistic FastAPI route (Depends chain with an API key, a
# class dependency, a Pydantic body, a response_model) on fastcore 3.13t and 3.11 against the same
# app on FastAPI + uvicorn (uvloop, httptools), plus JSON hello against raw hyper, in one run.
#
#   bash bench/api.sh             10 s x 3 interleaved reps: bench/results/api.md
#   QUICK=1 bash bench/api.sh     2 s x 1 rep: every server answers correctly; judges no speed
#
# Env: DURATION, WARMUP (seconds per run), REPS. Servers on CPU 0, wrk on CPU 1. Provisions what it
# needs the way bench/ecosystem.sh does (bench/provision.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[bench] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# shellcheck source=bench/provision.sh
. bench/provision.sh

args=()
[ "${QUICK:-0}" = 1 ] && args+=(--quick)
[ -n "${DURATION:-}" ] && args+=(--duration "$DURATION")
[ -n "${WARMUP:-}" ] && args+=(--warmup "$WARMUP")
[ -n "${REPS:-}" ] && args+=(--reps "$REPS")
exec "$PY311" bench/api.py "${args[@]}"
