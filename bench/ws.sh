#!/usr/bin/env bash
# WebSocket echo benchmark: messages/s over 64 sockets on one core, fastcore 3.13t and 3.11
# against FastAPI on uvicorn (uvloop, httptools, websockets) and on Granian, and Robyn (its
# bench/.venvs/robyn-311 venv, made by bench/run.sh; skipped if missing), in one run.
#
#   bash bench/ws.sh             10 s x 3 interleaved reps: bench/results/ws.md
#   QUICK=1 bash bench/ws.sh     1 s x 1 rep: every server echoes correctly; judges no speed
#
# Env: DURATION, WARMUP (seconds per run), REPS, SIZE (message bytes, default 32), SERVERS
# (comma-separated), BASELINE (a copy of python/fastcore with its built _core*.so, of an earlier
# commit: adds fastcore-313t-base and fastcore-gil-base to the same run). Servers on CPU 0, the
# Rust load generator (bench/ws_loadgen) on CPU 1. Provisions what it needs through
# bench/provision.sh (wrk, cargo, fastcore's venvs; bench/.venvs/ws-311 from
# bench/requirements-ws-311.txt), then builds the load generator (cargo).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[bench] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- tools, fastcore's venvs and bench/.venvs/ws-311 (the peers), as the other benches -----------
BENCH_VENVS=ws-311
# shellcheck source=bench/provision.sh
. bench/provision.sh
log "building the WebSocket load generator (cargo, release)"
cargo build --release --quiet --manifest-path bench/ws_loadgen/Cargo.toml >&2

args=()
[ "${QUICK:-0}" = 1 ] && args+=(--quick)
[ -n "${DURATION:-}" ] && args+=(--duration "$DURATION")
[ -n "${WARMUP:-}" ] && args+=(--warmup "$WARMUP")
[ -n "${REPS:-}" ] && args+=(--reps "$REPS")
[ -n "${SIZE:-}" ] && args+=(--size "$SIZE")
[ -n "${SERVERS:-}" ] && args+=(--servers "$SERVERS")
[ -n "${BASELINE:-}" ] && args+=(--baseline "$BASELINE")
exec "$PY311" bench/ws.py "${args[@]}"
