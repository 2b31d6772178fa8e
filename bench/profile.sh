#!/usr/bin/env bash
# Where the time of one request goes: perf samples (cpu-clock; this VM has no hardware
# counters) of a fastcore server pinned to CPU 0 while wrk on CPU 1 drives one route.
#
#   bash bench/profile.sh            # profiles /sync and /async of bench/apps/profile_app.py on 3.13t
#   PYTHON=.venv-gil/bin/python ROUTES=sync bash bench/profile.sh
# Prints the share of samples per shared object (kernel, fastcore's Rust, libpython, libc) and
# the top symbols; raw data goes to bench/results/raw/perf.<route>.data.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv-313t/bin/python}
ROUTES=${ROUTES:-sync async}
PORT=${PORT:-8791}
mkdir -p bench/results/raw
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null

for route in $ROUTES; do
  taskset -c 0 "$PYTHON" -m fastcore run bench.apps.profile_app:app --host 127.0.0.1 --port "$PORT" --threads 1 \
    >"bench/results/raw/profile-server.log" 2>&1 &
  server=$!
  trap 'kill -INT $server 2>/dev/null || true' EXIT
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/$route" >/dev/null && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c64 -d8s "http://127.0.0.1:$PORT/$route" >"bench/results/raw/profile-wrk.$route.txt" &
  load=$!
  sleep 2  # past warm-up
  perf record -q -e cpu-clock -F 2000 -g -p "$server" -o "bench/results/raw/perf.$route.data" -- sleep 4 >/dev/null 2>&1
  wait "$load"
  kill -INT "$server"; wait "$server" || true
  trap - EXIT
  echo "== /$route: $(grep Requests/sec "bench/results/raw/profile-wrk.$route.txt")"
  perf report -i "bench/results/raw/perf.$route.data" --no-children --sort dso --stdio -g none 2>/dev/null \
    | grep '%' | head -6
  perf report -i "bench/results/raw/perf.$route.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
    | grep '%' | grep -v '\[k\]' | head -15
done
