#!/usr/bin/env bash
# Server CPU time per request on the API route (bench/apps/api_common.py): FastAPI + uvicorn
# (uvloop, httptools) 3.11 and fastcore on 3.13t and 3.11, alternating, ROUNDS times. Counts only
# the server's own CPU time, so it holds up on a busy machine better than req/s; the same-run
# ratio to FastAPI is the figure bench/api.sh's "req per server CPU-second" column gives.
#
#   bash bench/api_cpu.sh                         # ROUNDS=3 DURATION=5
#   BASE=/tmp/old/python bash bench/api_cpu.sh    # also a `fastcore` package in BASE (an older build)
#
# Servers on CPU 0, wrk (-t1 -c64, bench/wrk/api_item.lua) on CPU 1. Needs what bench/api.sh
# provisions (bench/.venvs/eco-311, wrk).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DURATION="${DURATION:-5}"; ROUNDS="${ROUNDS:-3}"; TICK=$(getconf CLK_TCK)
URL_PATH="/items/42?q=search&skip=5&limit=20"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() {  # $1: label, then the server command (without --port)
  local label=$1; shift
  local port=$((20000 + RANDOM % 10000))
  (cd bench/apps && exec taskset -c 0 "$@" --port "$port" >/dev/null 2>&1) &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/plaintext" >/dev/null 2>&1 && break; sleep 0.2; done
  taskset -c 1 wrk -t1 -c64 -d2s -s bench/wrk/api_item.lua "http://127.0.0.1:$port$URL_PATH" >/dev/null
  local before; before=$(cpu_ticks "$pid")
  local out; out=$(taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" -s bench/wrk/api_item.lua "http://127.0.0.1:$port$URL_PATH")
  local after; after=$(cpu_ticks "$pid")
  kill -INT "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  local requests; requests=$(echo "$out" | awk '/requests in/ {print $1}')
  local non2xx; non2xx=$(echo "$out" | awk '/Non-2xx/ {print $4}')
  awk -v l="$label" -v t=$((after - before)) -v hz="$TICK" -v n="$requests" -v e="${non2xx:-0}" \
    'BEGIN { printf "%-14s %7.1f us/req  (%d requests, non-2xx %s)\n", l, t / hz / n * 1e6, n, e }'
}

fastcore() { echo "$ROOT/.venv-$1/bin/python" -m fastcore run api_fastcore:app --host 127.0.0.1 --threads 1 --log-level warning; }
for round in $(seq "$ROUNDS"); do
  echo "round $round $(date -u +%T) load average $(cut -d' ' -f1 /proc/loadavg)"
  measure fastapi "$ROOT/bench/.venvs/eco-311/bin/uvicorn" api_fastapi:app --host 127.0.0.1 --loop uvloop \
    --http httptools --no-access-log --log-level warning
  for v in 313t gil; do
    # shellcheck disable=SC2046  # the command's words
    [ -n "${BASE:-}" ] && measure "base-$v" env PYTHONPATH="$BASE" $(fastcore "$v")
    # shellcheck disable=SC2046
    measure "fastcore-$v" $(fastcore "$v")
  done
done
