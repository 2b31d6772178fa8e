#!/usr/bin/env bash
# TLS and HTTP/2 JSON hello: fastcore against Granian RSGI, both on free-threaded 3.13t, one
# worker each, in the same run (issue 12; NOTES.md "TLS and HTTP/2").
#
#   bash bench/protocols.sh                    DURATION=10 REPS=3, all scenarios
#   QUICK=1 bash bench/protocols.sh            smoke check: DURATION=1 REPS=1 WARMUP=1
#   SCENARIOS="https h2" DURATION=5 bash bench/protocols.sh
#
# Scenarios (GET / answering {"message":"Hello, World!"}):
#   https  HTTP/1.1 over TLS 1.3: wrk -t1 -c64, keep-alive (one handshake per connection)
#   h2     HTTP/2 over TLS 1.3 (ALPN h2): h2load -t1 -c16 -m16 (16 connections x 16 streams)
#   h2c    HTTP/2 over cleartext, prior knowledge: h2load -t1 -c16 -m16
# Figures per scenario: req/s (median over REPS, servers alternating inside each rep) and the
# server's CPU time per request (utime + stime of its whole process tree during the run divided
# by the requests served; far less sensitive to other load on a shared machine than req/s), each
# as a same-run ratio fastcore / Granian (for CPU: Granian's CPU per request / fastcore's).
# Servers: fastcore run examples.hello:app --threads 1 (.venv-313t) with --http 1 / 2 and the
# certificate; Granian (bench/.venvs/peers-313t, provisioned by bench/run.sh) with
# --interface rsgi --workers 1 --runtime-threads 1 --runtime-mode st --loop asyncio --no-ws and
# the same --http and certificate (bench/apps/rsgi_app.py). Server pinned to CPU 0, the load
# generator to CPU 1. A throwaway self-signed RSA-2048 certificate is made with openssl.
# Exits non-zero if a server fails to start, answers wrongly or any request fails; QUICK=1 judges
# no speed (it is ci/test.sh's smoke check). Writes bench/results/protocols.md (QUICK:
# bench/results/raw/protocols-quick.md; raw client output in bench/results/raw/protocols-*).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${QUICK:-0}" = 1 ]; then : "${DURATION:=1}" "${REPS:=1}" "${WARMUP:=1}"; fi
DURATION="${DURATION:-10}"
REPS="${REPS:-3}"
WARMUP="${WARMUP:-2}"
SCENARIOS="${SCENARIOS:-https h2 h2c}"
PYTHON="${PYTHON:-.venv-313t/bin/python}"
GRANIAN_PY="${GRANIAN_PY:-bench/.venvs/peers-313t/bin/python}"
EXPECTED='{"message":"Hello, World!"}'
RAW=bench/results/raw
OUT="${OUT:-bench/results/protocols.md}"
[ "${QUICK:-0}" = 1 ] && OUT="$RAW/protocols-quick.md"

log() { echo "[protocols] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# shellcheck source=bench/shared.sh
. bench/shared.sh   # need, PIN_SERVER, PIN_CLIENT, PINNING, free_port, median
need wrk wrk
need h2load nghttp2-client
need openssl openssl
need curl curl
[ -x "$PYTHON" ] || die "$PYTHON not found: run ci/setup.sh"
if ! { [ -x "$GRANIAN_PY" ] && "$GRANIAN_PY" -c "import granian" 2>/dev/null; }; then
  # The same venv bench/run.sh makes (it rebuilds it when the requirements change).
  log "provisioning bench/.venvs/peers-313t from bench/requirements-peers-313t.txt"
  py=$(bash ci/python313t.sh)
  { rm -rf bench/.venvs/peers-313t && "$py" -m venv bench/.venvs/peers-313t \
    && bench/.venvs/peers-313t/bin/python -m pip install -q --disable-pip-version-check --prefer-binary \
         -r bench/requirements-peers-313t.txt; } >&2 || die "could not install Granian (bench/.venvs/peers-313t)"
  GRANIAN_PY=bench/.venvs/peers-313t/bin/python
fi

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
mkdir -p "$RAW"
rm -f "$RAW"/protocols-*.txt "$RAW"/protocols-*.log
CERTS=$(mktemp -d)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem" \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null

SERVER_PID=""
# Granian 2.7.9 on 3.13t aborts while shutting down (a panic in its asyncio loop's close, in its
# log); bash's "Aborted" notice for it is sent to /dev/null with the rest of this function's
# stderr.
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  kill -INT "$SERVER_PID" || true
  for _ in $(seq 50); do kill -0 "$SERVER_PID" || break; sleep 0.1; done
  kill -9 "$SERVER_PID" || true
  wait "$SERVER_PID" || true
  SERVER_PID=""
} 2>/dev/null
trap 'stop_server; rm -rf "$CERTS"' EXIT
trap 'exit 130' INT TERM

# scenario -> HTTP version flag, TLS or not, URL scheme, curl's flag
http_of() { case "$1" in https) echo 1 ;; *) echo 2 ;; esac; }
tls_of() { [ "$1" != h2c ]; }
url_of() { if tls_of "$1"; then echo "https://127.0.0.1:$2/"; else echo "http://127.0.0.1:$2/"; fi; }
curl_of() { case "$1" in https) echo --http1.1 ;; h2) echo --http2 ;; h2c) echo --http2-prior-knowledge ;; esac; }

server_cmd() {  # server_cmd <server> <scenario> <port>: sets CMD
  local tls=()
  case "$1" in
    fastcore)
      tls_of "$2" && tls=(--ssl-certfile "$CERTS/cert.pem" --ssl-keyfile "$CERTS/key.pem")
      CMD=("$PYTHON" -m fastcore run examples.hello:app --host 127.0.0.1 --port "$3" --threads 1
           --http "$(http_of "$2")" --log-level warning "${tls[@]}") ;;
    granian)
      tls_of "$2" && tls=(--ssl-certificate "$CERTS/cert.pem" --ssl-keyfile "$CERTS/key.pem")
      CMD=("$GRANIAN_PY" -m granian --interface rsgi --host 127.0.0.1 --port "$3" --workers 1
           --runtime-threads 1 --runtime-mode st --loop asyncio --http "$(http_of "$2")" --no-ws
           --log-level warning --working-dir bench/apps "${tls[@]}" rsgi_app:app) ;;
  esac
}

start_server() {  # start_server <server> <scenario> <port> <log>
  local body
  server_cmd "$1" "$2" "$3"
  "${PIN_SERVER[@]}" "${CMD[@]}" >"$4" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -n 20 "$4" >&2; die "$1 ($2) exited during start-up"; }
    if body=$(curl -fsS -k "$(curl_of "$2")" --max-time 1 "$(url_of "$2" "$3")" 2>/dev/null); then
      [ "$body" = "$EXPECTED" ] || die "$1 ($2) answered '$body', expected '$EXPECTED'"
      return 0
    fi
    sleep 0.1
  done
  tail -n 20 "$4" >&2
  die "$1 ($2) did not answer within 30 s"
}

load() {  # load <scenario> <seconds> <port> <output>: prints req/s; fails on any failed request
  local rps
  if [ "$1" = https ]; then
    "${PIN_CLIENT[@]}" wrk -t1 -c64 -d"$2s" "$(url_of "$1" "$3")" >"$4"
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$4")
    ! grep -q "Non-2xx\|Socket errors" "$4" || { cat "$4" >&2; die "failed requests (wrk)"; }
  else
    "${PIN_CLIENT[@]}" h2load -t1 -c16 -m16 -D"$2" "$(url_of "$1" "$3")" >"$4"
    rps=$(awk '/^finished in/ {print $4}' "$4")
    awk '/^requests:/ {if ($10 + 0 > 0 || $12 + 0 > 0) exit 1}' "$4" || { cat "$4" >&2; die "failed requests (h2load)"; }
    awk '/^status codes:/ {if ($5 + 0 > 0 || $7 + 0 > 0 || $9 + 0 > 0) exit 1}' "$4" || { cat "$4" >&2; die "non-2xx (h2load)"; }
    grep -q "Application protocol: h2" "$4" || { cat "$4" >&2; die "h2load did not speak h2"; }
  fi
  [ -n "$rps" ] || { cat "$4" >&2; die "could not parse the load generator's output"; }
  echo "$rps"
}

# CPU ticks (utime + stime) of a process and all its descendants (Granian serves from a child).
tree_ticks() {
  local total=0 pid kids
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] || continue
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}')))
    kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true)
    # shellcheck disable=SC2086  # one pid per word
    [ -z "$kids" ] || total=$((total + $(tree_ticks $kids)))
  done
  echo "$total"
}
# Nanoseconds the threads of a process and its descendants spent runnable but waiting for a CPU
# (/proc/PID/task/TID/schedstat, second field): high when other processes crowd the server's core.
tree_wait_ns() {
  local total=0 pid kids
  for pid in "$@"; do
    [ -d "/proc/$pid/task" ] || continue
    total=$((total + $(cat /proc/"$pid"/task/*/schedstat 2>/dev/null | awk '{s += $2} END {printf "%d", s}')))
    kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . || true)
    # shellcheck disable=SC2086  # one pid per word
    [ -z "$kids" ] || total=$((total + $(tree_wait_ns $kids)))
  done
  echo "$total"
}
requests_of() {  # requests served in a load generator's output
  if [ "$1" = https ]; then awk '/requests in/ {print $1}' "$2"; else awk '/^requests:/ {print $8}' "$2"; fi
}
HZ=$(getconf CLK_TCK)

declare -A RUNS CPU WAIT
for rep in $(seq "$REPS"); do
  for scenario in $SCENARIOS; do
    for server in fastcore granian; do
      port=$(free_port)
      base="$RAW/protocols-$scenario-$server-$rep"
      log "rep $rep/$REPS: $scenario on $server (port $port)"
      start_server "$server" "$scenario" "$port" "$base.log"
      load "$scenario" "$WARMUP" "$port" "$base.warmup.txt" >/dev/null
      before=$(tree_ticks "$SERVER_PID"); wait_before=$(tree_wait_ns "$SERVER_PID")
      rps=$(load "$scenario" "$DURATION" "$port" "$base.txt")
      after=$(tree_ticks "$SERVER_PID"); wait_after=$(tree_wait_ns "$SERVER_PID")
      kill -0 "$SERVER_PID" 2>/dev/null || die "$server died during $scenario"
      stop_server
      us=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="$(requests_of "$scenario" "$base.txt")" \
        'BEGIN {printf "%.2f", n ? t / hz / n * 1e6 : 0}')
      waited=$(awk -v ns=$((wait_after - wait_before)) -v d="$DURATION" 'BEGIN {printf "%.0f", ns / (d * 1e7)}')
      RUNS[$scenario-$server]="${RUNS[$scenario-$server]:-} $rps"
      CPU[$scenario-$server]="${CPU[$scenario-$server]:-} $us"
      WAIT[$scenario-$server]="${WAIT[$scenario-$server]:-} $waited"
      log "  $rps req/s, $us us CPU/request, waited for a CPU ${waited}% of the run"
    done
  done
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b ? a / b : 0}'; }
{
  echo "# TLS and HTTP/2 JSON hello: fastcore vs Granian RSGI (3.13t, one worker each)"
  echo
  echo "Generated by \`bench/protocols.sh\` on $(date -u +%Y-%m-%dT%H:%MZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo none):"
  echo "DURATION=$DURATION s, REPS=$REPS (servers alternating in each rep), WARMUP=$WARMUP s; $PINNING; $(nproc) CPUs;"
  echo "load average $LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after;"
  echo "$("$PYTHON" -c 'import platform; print("CPython", platform.python_version())'),"
  echo "Granian $("$GRANIAN_PY" -c 'import granian; print(granian.__version__)'), $(h2load --version | head -1), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)."
  echo "req/s ratio = fastcore / Granian; CPU ratio = Granian's server CPU per request / fastcore's;"
  echo "CPU wait = time the server's threads were runnable but not running (other load on its core), % of the run, median."
  echo
  echo "| scenario | client | fastcore req/s | Granian req/s | req/s ratio (per rep) | fastcore us CPU/req | Granian us CPU/req | CPU ratio (per rep) | CPU wait fastcore / Granian |"
  echo "|---|---|---:|---:|---|---:|---:|---|---|"
  for scenario in $SCENARIOS; do
    read -r -a f <<<"${RUNS[$scenario-fastcore]}"
    read -r -a g <<<"${RUNS[$scenario-granian]}"
    read -r -a fc <<<"${CPU[$scenario-fastcore]}"
    read -r -a gc <<<"${CPU[$scenario-granian]}"
    read -r -a fw <<<"${WAIT[$scenario-fastcore]}"
    read -r -a gw <<<"${WAIT[$scenario-granian]}"
    ratios=() cratios=()
    for i in "${!f[@]}"; do ratios+=("$(ratio "${f[$i]}" "${g[$i]}")"); cratios+=("$(ratio "${gc[$i]}" "${fc[$i]}")"); done
    case "$scenario" in https) client="wrk -t1 -c64" ;; *) client="h2load -t1 -c16 -m16" ;; esac
    echo "| $scenario | $client | $(median "${f[@]}") | $(median "${g[@]}") | **$(median "${ratios[@]}")x** (${ratios[*]}) |" \
      "$(median "${fc[@]}") | $(median "${gc[@]}") | **$(median "${cratios[@]}")x** (${cratios[*]}) |" \
      "$(median "${fw[@]}")% / $(median "${gw[@]}")% |"
  done
} >"$OUT"
cat "$OUT"
