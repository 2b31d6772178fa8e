#!/usr/bin/env bash
# Where the time of one WebSocket message goes: perf samples (cpu-clock; this VM has no hardware
# counters) of a fastcore server serving bench/ws.sh's echo (bench/apps/ws_fastcore.py), pinned to
# CPU 0, while bench/ws_loadgen on CPU 1 keeps one message in flight on each of 64 sockets.
#
#   bash bench/ws_profile.sh                                  # 3.13t
#   PYTHON=.venv-gil/bin/python bash bench/ws_profile.sh      # 3.11
#   BASELINE=/tmp/before bash bench/ws_profile.sh             # the fastcore package in that directory
# Prints the echo rate, the share of samples per shared object (kernel, fastcore's Rust, libpython,
# libc) and the top symbols; raw data goes to bench/results/raw/perf.ws.data. Run bench/ws.sh once
# first: it builds the load generator.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv-313t/bin/python}
PORT=${PORT:-8792}
LOADGEN=bench/ws_loadgen/target/release/ws_loadgen
RAW=bench/results/raw
mkdir -p "$RAW"
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
[ -x "$LOADGEN" ] || { echo "build the load generator first (bash bench/ws.sh)" >&2; exit 1; }

(cd bench/apps && PYTHONPATH=${BASELINE:-} exec taskset -c 0 "../../$PYTHON" -m fastcore run ws_fastcore:app \
   --host 127.0.0.1 --port "$PORT" --threads 1 --log-level warning) >"$RAW/ws-profile-server.log" 2>&1 &
server=$!
trap 'kill -INT $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/plaintext" >/dev/null && break; sleep 0.1; done
taskset -c 1 "$LOADGEN" --url "ws://127.0.0.1:$PORT/echo" --connections 64 --duration 6 --warmup 1 \
  >"$RAW/ws-profile-loadgen.txt" &
load=$!
sleep 2  # past warm-up
perf record -q -e cpu-clock -F 4000 -g -p "$server" -o "$RAW/perf.ws.data" -- sleep 4 >/dev/null 2>&1
wait "$load"
kill -INT "$server"; wait "$server" || true
trap - EXIT
echo "== echo: $(tail -n 1 "$RAW/ws-profile-loadgen.txt"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
perf report -i "$RAW/perf.ws.data" --no-children --sort dso --stdio -g none 2>/dev/null | grep '%' | head -6
perf report -i "$RAW/perf.ws.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
  | grep '%' | head -30 | cut -c1-140
