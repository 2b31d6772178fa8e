#!/usr/bin/env bash
# What middleware costs a request: server CPU time per request for JSON hello, measured as
# bench/cpu_per_request.sh measures it (one worker pinned to CPU 0, wrk -t1 -c64 on CPU 1,
# (utime + stime) / requests), for each case in turn, ROUNDS times, alternating:
#
#   BEFORE=/tmp/main-build bash bench/middleware.sh
#
#   before   the app with no middleware on the build in $BEFORE (a directory holding a
#            `fastcore` package from before middleware existed; skipped if unset)
#   none     no middleware, this build
#   native   CORSMiddleware + GZipMiddleware (in Rust); the request sends Origin and
#            Accept-Encoding: gzip, so CORS adds its headers and GZip looks at the (small) body
#   python   one pass-through `@app.middleware("http")`
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv-313t/bin/python}"
DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
TICK=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

measure() {  # $1: PYTHONPATH, $2: MIDDLEWARE
  local port=$((20000 + RANDOM % 10000))
  PYTHONPATH="$1" MIDDLEWARE="$2" taskset -c 0 "$PYTHON" -m fastcore run bench.apps.middleware_app:app \
    --port "$port" --threads 1 --log-level warning >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 0.2; done
  local wrk=(taskset -c 1 wrk -t1 -c64 -H "Origin: https://example.org" -H "Accept-Encoding: gzip")
  "${wrk[@]}" -d1s "http://127.0.0.1:$port/" >/dev/null
  local before; before=$(cpu_ticks "$pid")
  local out; out=$("${wrk[@]}" -d"${DURATION}s" "http://127.0.0.1:$port/")
  local after; after=$(cpu_ticks "$pid")
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
  local requests; requests=$(echo "$out" | awk '/requests in/ {print $1}')
  awk -v t=$((after - before)) -v hz="$TICK" -v n="$requests" 'BEGIN { printf "%.2f", t / hz / n * 1e6 }'
}

for round in $(seq "$ROUNDS"); do
  line="round $round "
  if [ -n "${BEFORE:-}" ]; then line+=" before $(measure "$(realpath "$BEFORE"):$PWD" none) "; fi
  for kind in none native python; do line+=" $kind $(measure "$PWD" "$kind") "; done
  echo "$line us/req"
done
