#!/usr/bin/env bash
# Server CPU time per request for JSON hello (and the plain-text Response route): less sensitive
# to other load on a shared machine than req/s, since it counts only the server's own CPU time.
#
#   PYTHONPATHS="/tmp/a /tmp/b" bash bench/cpu_per_request.sh
#
# Each entry of PYTHONPATHS is a directory holding a `fastcore` package (e.g. a wheel unpacked)
# and is measured in turn, ROUNDS times (default 3), alternating; "" means the venv's own build.
# The server (one worker thread) is pinned to CPU 0, wrk (-t1 -c64, DURATION s) to CPU 1; the
# figure is (utime + stime of the server during the run) / requests served, in microseconds.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv-313t/bin/python}"
DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() {  # $1: PYTHONPATH, $2: route
  local port=$((20000 + RANDOM % 10000))
  PYTHONPATH="$1" taskset -c 0 "$PYTHON" -m fastcore run examples.hello:app --port "$port" --threads 1 \
    --log-level warning >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port$2" >/dev/null 2>&1 && break; sleep 0.2; done
  taskset -c 1 wrk -t1 -c64 -d1s "http://127.0.0.1:$port$2" >/dev/null
  local before; before=$(cpu_ticks "$pid")
  local out; out=$(taskset -c 1 wrk -t1 -c64 -d"${DURATION}s" "http://127.0.0.1:$port$2")
  local after; after=$(cpu_ticks "$pid")
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  local requests; requests=$(echo "$out" | awk '/requests in/ {print $1}')
  awk -v t=$((after - before)) -v hz="$TICK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz / n * 1e6 }'
}

for round in $(seq "$ROUNDS"); do
  for pp in ${PYTHONPATHS:-""}; do
    printf "round %s  %-24s json %s us/req   plaintext %s us/req\n" "$round" "${pp:-venv}" \
      "$(measure "$pp" /)" "$(measure "$pp" /plaintext)"
  done
done
