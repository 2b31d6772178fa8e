#!/usr/bin/env bash
# Sync JSON-hello benchmark: fastcore vs. a raw hyper server, measured in the same run.
#
#   bash bench/hello.sh                 full run (DURATION=10, REPS=3)
#   QUICK=1 bash bench/hello.sh         CI smoke check (DURATION=2, REPS=1)
#   SERVERS=hyper bash bench/hello.sh   only the baseline (e.g. before fastcore is built)
#
# Env: SERVERS (hyper 313t gil; default: hyper 313t, plus gil if .venv-gil exists),
#      PYTHON (default .venv-313t/bin/python), PYTHON_GIL (default .venv-gil/bin/python),
#      DURATION, REPS, WARMUP (seconds), CONNS (wrk connections, default 64).
# The server is pinned to CPU 0 and wrk to CPU 1 so they never compete for a core.
# Writes the table to bench/results/hello.md and raw wrk output to bench/results/raw/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = 1 ]; then
  : "${DURATION:=2}" "${REPS:=1}" "${WARMUP:=1}"
fi
DURATION="${DURATION:-10}"
REPS="${REPS:-3}"
WARMUP="${WARMUP:-3}"
CONNS="${CONNS:-64}"
PYTHON="${PYTHON:-.venv-313t/bin/python}"
PYTHON_GIL="${PYTHON_GIL:-.venv-gil/bin/python}"
if [ -z "${SERVERS:-}" ]; then
  SERVERS="hyper 313t"
  [ -x "$PYTHON_GIL" ] && SERVERS="$SERVERS gil"
fi
EXPECTED='{"message":"Hello, World!"}'
RESULTS=bench/results
RAW="$RESULTS/raw"
BASELINE=bench/hyper_baseline/target/release/hyper-baseline

log() { echo "[bench] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- tools -----------------------------------------------------------------
# shellcheck source=bench/shared.sh
. bench/shared.sh   # need, PIN_SERVER, PIN_CLIENT, PINNING, free_port, median
need wrk wrk
need curl curl
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091  # rustup's env file, not in the repo
  . "$HOME/.cargo/env"
fi

case " $SERVERS " in *" hyper "*)
  log "building hyper baseline"
  cargo build --release --quiet --manifest-path bench/hyper_baseline/Cargo.toml >&2 ;;
esac

mkdir -p "$RAW"
rm -f "$RAW"/hello-*   # raw/ should only hold this run's files

# Other work on the box (a cargo build, say) skews every number; measure how busy
# the CPUs are for 1 s before starting and flag it in the report.
cpu_busy_pct() {
  local a b
  a=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat); sleep 1
  b=$(awk '/^cpu / {print $2+$3+$4+$7+$8, $5+$6}' /proc/stat)
  echo "$a $b" | awk '{busy = $3 - $1; idle = $4 - $2; printf "%.0f", 100 * busy / (busy + idle)}'
}
BUSY=$(cpu_busy_pct)
NOTES=()
if [ "$BUSY" -gt 10 ]; then
  NOTES+=("WARNING: CPUs were ${BUSY}% busy before the run; other load makes these numbers unreliable.")
  log "${NOTES[-1]}"
fi

# --- server lifecycle ------------------------------------------------------
SERVER_PID=""
CLIENT_PID=""
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill "$SERVER_PID" 2>/dev/null || true
  # Give it 5 s to shut down gracefully, then force it so the next run gets a clean CPU.
  for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}
cleanup() {
  [ -z "$CLIENT_PID" ] || kill "$CLIENT_PID" 2>/dev/null || true
  stop_server
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # the EXIT trap still runs and stops the server

server_cmd() {  # server_cmd <name> <port>: sets CMD to the server's argv
  case "$1" in
    hyper) CMD=("$BASELINE" --port "$2") ;;
    313t)  CMD=("$PYTHON" -m fastcore run examples.hello:app --host 127.0.0.1 --port "$2" --threads 1) ;;
    gil)   CMD=("$PYTHON_GIL" -m fastcore run examples.hello:app --host 127.0.0.1 --port "$2" --threads 1) ;;
    *) die "unknown server '$1' (known: hyper 313t gil)" ;;
  esac
  [ -x "${CMD[0]}" ] || die "$1: ${CMD[0]} not found (run 'make setup' first?)"
}

start_server() {  # start_server <name> <port> <log>
  local name="$1" port="$2" logf="$3" body
  server_cmd "$name" "$port"
  # taskset execs the server, so $! is the server's own pid.
  "${PIN_SERVER[@]}" "${CMD[@]}" >"$logf" 2>&1 &
  SERVER_PID=$!
  # Python startup + imports can take a few seconds; allow 30.
  for _ in $(seq 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$logf" >&2; die "$name exited during startup"; }
    if body=$(curl -fsS --max-time 1 "http://127.0.0.1:$port/" 2>/dev/null); then
      [ "$body" = "$EXPECTED" ] || log "WARNING: $name answered GET / with '$body', expected '$EXPECTED'"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$logf" >&2
  die "$name did not answer on port $port within 30 s"
}

# --- measurement -----------------------------------------------------------
to_ms() {  # wrk latency (e.g. 812.00us, 1.23ms, 2.01s) -> milliseconds
  awk -v v="$1" 'BEGIN {
    n = v + 0
    if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /m$/) n *= 60000; else if (v ~ /s$/) n *= 1000
    printf "%.3f", n }'
}

join_list() { local s="${1# }"; echo "${s// /, }"; }  # " a b" -> "a, b"

# Check every server can be started before spending minutes on the others.
for name in $SERVERS; do server_cmd "$name" 0; done

# Share of all CPU time during a run that went neither to the server nor to wrk (other
# processes, plus hypervisor steal), in %. Ticks are USER_HZ; the server's come from
# /proc/PID/stat (all threads), wrk's from bash's `times` for reaped children.
HZ=$(getconf CLK_TCK)
cpu_ticks() { awk '/^cpu / {print $2+$3+$4, $9, $2+$3+$4+$5+$6+$7+$8+$9}' /proc/stat; }
pid_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# `times` must run in this shell, not in a $(...) subshell, whose child times start at 0.
child_ticks() { awk -v hz="$HZ" 'NR == 2 {
  t = 0; for (i = 1; i <= 2; i++) { split($i, a, /[ms]/); t += a[1] * 60 + a[2] }; printf "%.0f", t * hz }' "$1"; }
foreign_pct() {  # foreign_pct "<before: busy steal total server wrk>" "<after: same>"
  echo "$1 $2" | awk '{busy = $6 - $1; steal = $7 - $2; total = $8 - $3; ours = ($9 - $4) + ($10 - $5)
    f = busy + steal - ours; if (f < 0) f = 0; printf "%.0f", total ? 100 * f / total : 0}'
}

# Runs wrk as a background child and waits: bash only runs traps between commands,
# so a foreground wrk would delay Ctrl-C/TERM handling until the run ended.
run_wrk() {  # run_wrk <seconds> <port> <output file>
  "${PIN_CLIENT[@]}" wrk -t1 -c"$CONNS" -d"$1s" --latency "http://127.0.0.1:$2/" >"$3" &
  CLIENT_PID=$!
  wait "$CLIENT_PID"
  CLIENT_PID=""
}

declare -A RPS P99
MAX_FOREIGN=0

for rep in $(seq "$REPS"); do
  # Interleave servers within each rep so slow drift (thermal, noisy neighbours) hits all of them.
  for name in $SERVERS; do
    port=$(free_port)
    out="$RAW/hello-$name-$rep.txt"
    log "rep $rep/$REPS: $name on port $port"
    start_server "$name" "$port" "$RAW/hello-$name-$rep.server.log"
    # Warm-up fills caches, the allocator and any lazy init; its numbers are thrown away.
    run_wrk "$WARMUP" "$port" /dev/null
    times >"$RAW/.times"
    before="$(cpu_ticks) $(pid_ticks "$SERVER_PID") $(child_ticks "$RAW/.times")"
    run_wrk "$DURATION" "$port" "$out"
    kill -0 "$SERVER_PID" 2>/dev/null || die "$name died during the run (see $RAW/hello-$name-$rep.server.log)"
    times >"$RAW/.times"
    foreign=$(foreign_pct "$before" "$(cpu_ticks) $(pid_ticks "$SERVER_PID") $(child_ticks "$RAW/.times")")
    stop_server

    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p99=$(awk '$1 == "99%" {print $2}' "$out")
    if [ -z "$rps" ] || [ -z "$p99" ]; then cat "$out" >&2; die "$name: could not parse wrk output"; fi
    # wrk only prints these lines when something went wrong.
    if grep -qE '^ *(Socket errors|Non-2xx or 3xx responses):' "$out"; then
      cat "$out" >&2; die "$name: wrk reported errors"
    fi
    log "  $rps req/s, p99 $p99, other load ${foreign}%"
    MAX_FOREIGN=$(( foreign > MAX_FOREIGN ? foreign : MAX_FOREIGN ))
    RPS[$name]="${RPS[$name]:-} $rps"
    P99[$name]="${P99[$name]:-} $(to_ms "$p99")"
  done
done

# --- report ----------------------------------------------------------------
if [ "$MAX_FOREIGN" -gt 10 ]; then
  NOTES+=("WARNING: other processes took up to ${MAX_FOREIGN}% of the CPUs during a run; these numbers are unreliable.")
fi
# Medians per server; p99 is the median of the per-rep p99s.
declare -A MED_RPS MED_P99
for name in $SERVERS; do
  # shellcheck disable=SC2086  # word-splitting the space-separated list is intended
  MED_RPS[$name]=$(median ${RPS[$name]})
  # shellcheck disable=SC2086
  MED_P99[$name]=$(median ${P99[$name]})
done
base="${MED_RPS[hyper]:-}"

py_version() { "$1" -c 'import platform; print(platform.python_version())' 2>/dev/null || echo "?"; }
label() {
  case "$1" in
    hyper) echo "raw hyper (Rust)" ;;
    313t)  echo "fastcore, 3.13t ($(py_version "$PYTHON"))" ;;
    gil)   echo "fastcore, GIL ($(py_version "$PYTHON_GIL"))" ;;
  esac
}

table=$(
  echo "| server | req/s (median) | p99 ms (median) | vs raw hyper | req/s per rep |"
  echo "|---|---:|---:|---:|---|"
  for name in $SERVERS; do
    if [ -n "$base" ]; then ratio=$(awk -v a="${MED_RPS[$name]}" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
    else ratio="n/a"; fi
    printf '| %s | %.0f | %.2f | %s | %s |\n' "$(label "$name")" "${MED_RPS[$name]}" "${MED_P99[$name]}" \
      "$ratio" "$(join_list "${RPS[$name]}")"
  done
)

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
{
  echo "# hello benchmark (GET / -> {\"message\":\"Hello, World!\"})"
  echo
  echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo none)," \
       "$(nproc) CPUs ($cpu), $PINNING."
  echo "wrk -t1 -c$CONNS -d${DURATION}s after ${WARMUP}s warm-up; median of $REPS rep(s), servers interleaved."
  for n in "${NOTES[@]}"; do echo; echo "$n"; done
  echo
  echo "$table"
} >"$RESULTS/hello.md"

echo
echo "$table"
echo
for n in "${NOTES[@]}"; do log "$n"; done
log "wrote $RESULTS/hello.md"
