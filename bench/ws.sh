#!/usr/bin/env bash
# WebSocket echo benchmark: messages/s over 64 sockets on one core, fastcore 3.13t and 3.11
# against FastAPI on uvicorn (uvloop, httptools, websockets) and on Granian, and Robyn (its
# bench/.venvs/robyn-311 venv, made by bench/run.sh; skipped if missing), in one run.
#
#   bash bench/ws.sh             10 s x 3 interleaved reps: bench/results/ws.md
#   QUICK=1 bash bench/ws.sh     1 s x 1 rep: every server echoes correctly; judges no speed
#
# Env: DURATION, WARMUP (seconds per run), REPS, SIZE (message bytes, default 32), SERVERS
# (comma-separated). Servers on CPU 0, the Rust load generator (bench/ws_loadgen) on CPU 1.
# Provisions fastcore's venvs (ci/setup.sh, if missing), the load generator (cargo) and
# bench/.venvs/ws-311 from bench/requirements-ws-311.txt (rebuilt when it changes).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "[bench] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

command -v taskset >/dev/null 2>&1 || die "taskset (util-linux) is required for CPU pinning"
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091  # rustup's env file, not in the repo
  . "$HOME/.cargo/env"
fi
missing=""
[ -x .venv-313t/bin/python ] || missing="$missing 313t"
[ -x .venv-gil/bin/python ] || missing="$missing gil"
if [ -n "$missing" ]; then
  log "building fastcore into the missing venv(s):$missing (ci/setup.sh)"
  TARGETS="${missing# }" bash ci/setup.sh
fi
log "building the WebSocket load generator (cargo, release)"
cargo build --release --quiet --manifest-path bench/ws_loadgen/Cargo.toml >&2

PY311=$(command -v python3.11 || command -v python3) || die "no python3.11 / python3 found"
VENVS=bench/.venvs
dir="$VENVS/ws-311"
stamp=$(sha256sum bench/requirements-ws-311.txt bench/requirements-peers-311.txt "$PY311" | sha256sum | cut -c1-16)
if ! { [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] && [ -x "$dir/bin/python" ]; }; then
  log "provisioning $dir from bench/requirements-ws-311.txt"
  rm -rf "$dir"
  mkdir -p "$VENVS"
  if { "$PY311" -m venv "$dir" \
       && "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip \
       && "$dir/bin/python" -m pip install -q --disable-pip-version-check --prefer-binary \
            -r bench/requirements-ws-311.txt; } >"$VENVS/ws-311.log" 2>&1; then
    echo "$stamp" >"$dir/.stamp"
  else
    tail -n 5 "$VENVS/ws-311.log" >&2
    die "could not install $dir (see $VENVS/ws-311.log)"
  fi
fi

args=()
[ "${QUICK:-0}" = 1 ] && args+=(--quick)
[ -n "${DURATION:-}" ] && args+=(--duration "$DURATION")
[ -n "${WARMUP:-}" ] && args+=(--warmup "$WARMUP")
[ -n "${REPS:-}" ] && args+=(--reps "$REPS")
[ -n "${SIZE:-}" ] && args+=(--size "$SIZE")
[ -n "${SERVERS:-}" ] && args+=(--servers "$SERVERS")
exec "$PY311" bench/ws.py "${args[@]}"
