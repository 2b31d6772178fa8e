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

log() { echo "[bench] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- tools, fastcore, the baseline, FastAPI's venv; Redis + PostgreSQL --------------------------
# shellcheck source=bench/provision.sh
. bench/provision.sh
bash ci/services.sh

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
