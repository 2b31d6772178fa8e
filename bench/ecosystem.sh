#!/usr/bin/env bash
# Ecosystem benchmark (issue 8, item 4): asyncio libraries inside fastcore handlers, measured in one
# run on one core against same-run baselines.
#
#   bash bench/ecosystem.sh             full run (10 s x 3 reps, about 10 min): bench/results/ecosystem.md
#   QUICK=1 bash bench/ecosystem.sh     2 s x 1 rep: every route answers correctly; judges no speed;
#                                       writes bench/results/raw/ecosystem-quick.md
#
#   1. asyncio.sleep(0.01) vs fastcore.sleep(0.01), 1,000 connections, fastcore 3.13t (raw hyper for reference)
#   2. one Redis GET through redis.asyncio: fastcore 3.13t and 3.11 vs FastAPI + uvicorn (uvloop) 3.11
#   3. one PostgreSQL primary-key SELECT through psycopg async + psycopg_pool: the same comparison
#   4. 4 concurrent upstream GETs: httpx.AsyncClient vs fastcore.http, both in fastcore handlers
#
# Env: DURATION, WARMUP (seconds per run), REPS, CASES (subset of case names, see bench/ecosystem.py),
#      ECO_PG_POOL (psycopg pool size per worker, default 16),
#      NICE    (e.g. -10, as root: run servers, wrk and services ahead of other work on a shared machine).
# Provisions what it needs: wrk (apt), Redis + PostgreSQL (ci/services.sh, apt), the raw hyper
# baseline (cargo), fastcore's venvs (ci/setup.sh, if missing) and bench/.venvs/eco-311 (FastAPI +
# uvicorn + the same clients) from bench/requirements-eco-311.txt, the way bench/run.sh provisions
# its peers. Redis, PostgreSQL and the upstream run on private ports for this run only and are
# stopped at the end. Servers on CPU 0, wrk and the services on CPU 1. Method: bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

VENVS=bench/.venvs
log() { echo "[bench] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- system tools and services ----------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >&2 \
    || die "could not install wrk; install it manually"
fi
command -v taskset >/dev/null 2>&1 || die "taskset (util-linux) is required for CPU pinning"
[ "$(nproc)" -ge 2 ] || log "WARNING: fewer than 2 CPUs: server and load generator share one (numbers will be noisy)"
bash ci/services.sh
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091  # rustup's env file, not in the repo
  . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null 2>&1 || die "cargo is required (Rust toolchain)"

# --- fastcore itself and the raw hyper baseline (also the fan-out upstream) -------------------
missing=""
[ -x .venv-313t/bin/python ] || missing="$missing 313t"
[ -x .venv-gil/bin/python ] || missing="$missing gil"
if [ -n "$missing" ]; then
  log "building fastcore into the missing venv(s):$missing (ci/setup.sh)"
  TARGETS="${missing# }" bash ci/setup.sh
fi
log "building the raw hyper baseline (cargo, release)"
cargo build --release --quiet --manifest-path bench/hyper_baseline/Cargo.toml >&2

# --- the FastAPI side: bench/.venvs/eco-311 ---------------------------------------------------
# As bench/run.sh's make_venv: rebuilt only when a requirements file or the interpreter changes.
PY311=$(command -v python3.11 || command -v python3) || die "no python3.11 / python3 found"
dir="$VENVS/eco-311"
stamp=$(sha256sum bench/requirements-eco-311.txt bench/requirements-peers-311.txt "$PY311" | sha256sum | cut -c1-16)
if ! { [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] && [ -x "$dir/bin/python" ]; }; then
  log "provisioning $dir from bench/requirements-eco-311.txt"
  rm -rf "$dir"
  mkdir -p "$VENVS"
  if { "$PY311" -m venv "$dir" \
       && "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip \
       && "$dir/bin/python" -m pip install -q --disable-pip-version-check --prefer-binary \
            -r bench/requirements-eco-311.txt; } >"$VENVS/eco-311.log" 2>&1; then
    echo "$stamp" >"$dir/.stamp"
  else
    tail -n 5 "$VENVS/eco-311.log" >&2
    die "could not install $dir (see $VENVS/eco-311.log)"
  fi
fi

# --- run --------------------------------------------------------------------------------------
# 1,000 connections need more descriptors than the usual 1024, in the server and in wrk alike.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n 65536 2>/dev/null || true
[ "$(ulimit -n)" -ge 4096 ] || die "could not raise the open-files limit (ulimit -n is $(ulimit -n))"

args=()
[ "${QUICK:-0}" = 1 ] && args+=(--quick)
[ -n "${DURATION:-}" ] && args+=(--duration "$DURATION")
[ -n "${WARMUP:-}" ] && args+=(--warmup "$WARMUP")
[ -n "${REPS:-}" ] && args+=(--reps "$REPS")
[ -n "${NICE:-}" ] && args+=(--nice "$NICE")
# shellcheck disable=SC2206  # a space-separated list is intended
[ -n "${CASES:-}" ] && args+=(--cases $CASES)
exec "$PY311" bench/ecosystem.py "${args[@]}"
