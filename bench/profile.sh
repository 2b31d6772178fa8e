#!/usr/bin/env bash
# Where the time of one request goes: perf samples (cpu-clock; this VM has no hardware
# counters) of a fastcore server pinned to CPU 0 while wrk on CPU 1 drives one route.
#
#   bash bench/profile.sh                                   # /sync and /async of bench/apps/profile_app.py, 3.13t
#   PYTHON=.venv-gil/bin/python ROUTES=sync bash bench/profile.sh
#   SCENARIOS="params pydantic json10k upload" bash bench/profile.sh   # the suite's routes (bench/apps/fastcore_app.py)
#
# Prints the share of samples per shared object (kernel, fastcore's Rust, libpython, libc) and
# the top symbols; raw data goes to bench/results/raw/perf.<name>.data. With inferno installed
# (`cargo install inferno`), also writes a flame graph, bench/results/raw/flame.<name>.svg
# (<name>: the route or scenario, plus -313t or -311 after the interpreter).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv-313t/bin/python}
ROUTES=${ROUTES:-sync async}
SCENARIOS=${SCENARIOS:-}
PORT=${PORT:-8791}
SECONDS_SAMPLED=${SECONDS_SAMPLED:-4}
# Call stacks: frame pointers (cheap; Rust frames without them show as [unknown]) or, with
# CALLGRAPH=dwarf, unwound from copies of the stack (complete, but large files: use
# SECONDS_SAMPLED=1 or 2).
CALLGRAPH=${CALLGRAPH:-fp}
RAW=$PWD/bench/results/raw
mkdir -p "$RAW"
command -v perf >/dev/null || apt-get install -y -qq linux-perf >/dev/null
command -v wrk >/dev/null || apt-get install -y -qq wrk >/dev/null
PATH="$PATH:$HOME/.cargo/bin"
tag=$("$PYTHON" -c 'import sys; print(("313t" if not sys._is_gil_enabled() else "313") if hasattr(sys, "_is_gil_enabled") else "%d%d" % sys.version_info[:2])')
PYTHON=$(realpath -s "$PYTHON")

# name | app (module:attr, run from its directory) | path | connections | wrk extra args
jobs=()
for route in $ROUTES; do
  [ -n "$SCENARIOS" ] && break
  jobs+=("$route|bench/apps:profile_app:app|/$route|64|")
done
for sc in $SCENARIOS; do
  case $sc in
    json) jobs+=("json|bench/apps:fastcore_app:app|/|64|") ;;
    params) jobs+=("params|bench/apps:fastcore_app:app|/users/42?q=hello|64|") ;;
    pydantic) jobs+=("pydantic|bench/apps:fastcore_app:app|/items|64|-s $PWD/bench/wrk/post_items.lua") ;;
    json10k) jobs+=("json10k|bench/apps:fastcore_app:app|/json10k|64|") ;;
    upload) jobs+=("upload|bench/apps:fastcore_app:app|/upload|16|-s $PWD/bench/wrk/upload_1mb.lua") ;;
    *) echo "unknown scenario $sc (json params pydantic json10k upload)" >&2; exit 2 ;;
  esac
done

for job in "${jobs[@]}"; do
  IFS='|' read -r name app path conns extra <<<"$job"
  dir=${app%%:*}; target=${app#*:}
  name="$name-$tag"
  (cd "$dir" && exec taskset -c 0 "$PYTHON" -m fastcore run "$target" --host 127.0.0.1 --port "$PORT" --threads 1 \
    --log-level warning) >"$RAW/profile-server.log" 2>&1 &
  server=$!
  trap 'kill -INT $server 2>/dev/null || true' EXIT
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break; sleep 0.1; done
  # shellcheck disable=SC2086  # $extra is a list of arguments
  taskset -c 1 wrk -t1 -c"$conns" -d$((SECONDS_SAMPLED + 4))s $extra "http://127.0.0.1:$PORT$path" \
    >"$RAW/profile-wrk.$name.txt" &
  load=$!
  sleep 2  # past warm-up
  perf record -q -e cpu-clock -F 2000 --call-graph "$CALLGRAPH" -p "$server" -o "$RAW/perf.$name.data" -- sleep "$SECONDS_SAMPLED" >/dev/null 2>&1
  wait "$load"
  kill -INT "$server"; wait "$server" || true
  trap - EXIT
  echo "== $name ($path): $(grep Requests/sec "$RAW/profile-wrk.$name.txt")"
  perf report -i "$RAW/perf.$name.data" --no-children --sort dso --stdio -g none 2>/dev/null \
    | grep '%' | head -6 || true  # head closing the pipe early is no failure
  perf report -i "$RAW/perf.$name.data" --no-children --sort symbol --stdio -g none 2>/dev/null \
    | grep '%' | grep -v '\[k\]' | head -15 | cut -c1-110 || true
  if command -v inferno-collapse-perf >/dev/null && command -v inferno-flamegraph >/dev/null; then
    perf script -i "$RAW/perf.$name.data" 2>/dev/null | inferno-collapse-perf >"$RAW/folded.$name.txt"
    inferno-flamegraph --title "fastcore $name: $path" <"$RAW/folded.$name.txt" >"$RAW/flame.$name.svg"
    echo "flame graph: $RAW/flame.$name.svg"
  fi
done
