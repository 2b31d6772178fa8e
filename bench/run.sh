#!/usr/bin/env bash
# The benchmark suite: fastcore vs. raw hyper and the frameworks users would pick instead.
#
#   make bench                      full run (about 45 min): bench/results/REPORT.md + PNG charts
#   QUICK=1 bash bench/run.sh       CI smoke check (a few minutes, provisioning included): every server
#                                   answers every scenario correctly, short runs on a subset; exits
#                                   non-zero on a wrong answer, on socket errors or timeouts under
#                                   load, and on a peer that fails to install while the package
#                                   registry is reachable; judges no speed. Writes to
#                                   bench/results/raw/quick/ (gitignored), never over the full report.
#
# Env: DURATION, WARMUP (seconds per run), REPS (repetitions; median reported),
#      PARTS   (any of: checks matrix sweep scaling memory; default all),
#      SERVERS, SCENARIOS (subsets; names in bench/harness.py),
#      OUT     (output directory; default bench/results, or bench/results/raw/quick when QUICK=1),
#      MERGE=1 (keep OUT/results.json and replace only what this run measures, e.g. one scenario),
#      BEFORE  (a directory holding another `fastcore` package: adds the servers fastcore-313t-before
#               and fastcore-gil-before, that package on each interpreter, for a same-run comparison).
#
# Provisions everything it needs: wrk (apt), the raw hyper baseline + loadgen (cargo), fastcore's
# own venvs (ci/setup.sh, if missing), all three through bench/provision.sh, and one venv per peer
# under bench/.venvs/ from the pinned bench/requirements-*.txt. A peer that cannot be installed is
# reported loudly, recorded in the report and skipped; the run then fails at the end, unless the
# package registry could not be reached at all (a machine without it cannot install peers, and that
# is no fault of fastcore's).
# Method: bench/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

QUICK="${QUICK:-0}"
log() { echo "[bench] $*" >&2; }
die() { log "FAIL: $*"; exit 1; }

# --- wrk, cargo, fastcore's venvs, the raw hyper baseline and loadgen: as the other benches ------
BENCH_VENVS=""   # no 3.11 venvs there: the peers' venvs below may fail without ending the run
# shellcheck source=bench/provision.sh
. bench/provision.sh

# --- peers, each in its own venv ------------------------------------------------------------
# A venv is rebuilt only when its requirements file changes (hash kept in <venv>/.stamp). A peer
# that fails to install leaves <venv>.failed with the reason; the harness reports and skips it.
# If the registry answered meanwhile, the failure is the peer's requirements or build, not the
# network: it is listed in $broken_peers and fails the run once the rest has run.
broken_peers=""
shout() {  # a banner that a CI log reader cannot miss
  log "################################################################################"
  while [ $# -gt 0 ]; do log "## $1"; shift; done
  log "################################################################################"
}
registry_reachable() {  # registry_reachable <python>: can pip read the package index at all?
  timeout 90 "$1" -m pip index versions pip --timeout 20 --retries 1 >/dev/null 2>&1
}
make_venv() {  # make_venv <name> <python> <requirements file>
  local name="$1" py="$2" req="$3"
  venv_from "$name" "$py" "$req" && return 0
  grep -E 'ERROR|error:' "$VENVS/$name.log" | tail -n 3 >"$VENVS/$name.failed" || true
  [ -s "$VENVS/$name.failed" ] || tail -n 3 "$VENVS/$name.log" >"$VENVS/$name.failed"
  if registry_reachable "$py"; then
    broken_peers="$broken_peers $name"
    shout "ERROR: peer venv '$name' could not be installed from $req, although the package" \
          "registry is reachable; its servers are skipped and this run will fail." \
          "Log: $VENVS/$name.log; its last errors follow."
  else
    shout "WARNING: peer venv '$name' could not be installed: the package registry is unreachable." \
          "Its servers are skipped; not counted as a failure. Log: $VENVS/$name.log"
    echo "package registry unreachable" >>"$VENVS/$name.failed"
  fi
  sed 's/^/[bench]   /' "$VENVS/$name.failed" >&2
}

PY313T=$(bash ci/python313t.sh)
make_venv tools "$PY311" bench/requirements-tools.txt
if [ ! -x "$VENVS/tools/bin/python" ] || [ -e "$VENVS/tools.failed" ]; then
  die "the tools venv (matplotlib) is required"
fi
make_venv peers-313t "$PY313T" bench/requirements-peers-313t.txt
make_venv peers-311 "$PY311" bench/requirements-peers-311.txt
make_venv robyn-311 "$PY311" bench/requirements-robyn-311.txt

# --- run ------------------------------------------------------------------------------------
# 1,000 connections per wrk run and 10,000 parked requests need more descriptors than the usual
# default of 1024, in the servers and in the clients alike (both inherit this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ulimit -n 65536 2>/dev/null || true

args=()
if [ "$QUICK" = 1 ]; then
  OUT="${OUT:-bench/results/raw/quick}"
  args+=(--quick)
else
  OUT="${OUT:-bench/results}"
fi
[ -n "${DURATION:-}" ] && args+=(--duration "$DURATION")
[ -n "${WARMUP:-}" ] && args+=(--warmup "$WARMUP")
[ -n "${REPS:-}" ] && args+=(--reps "$REPS")
[ "${MERGE:-0}" = 1 ] && args+=(--merge)
# BEFORE=dir: also run fastcore from the package in dir (servers fastcore-313t-before, fastcore-gil-before).
[ -n "${BEFORE:-}" ] && export BENCH_BEFORE="$(realpath "$BEFORE")"
# shellcheck disable=SC2206  # space-separated lists are intended
[ -n "${PARTS:-}" ] && args+=(--parts $PARTS)
# shellcheck disable=SC2206
[ -n "${SERVERS:-}" ] && args+=(--servers $SERVERS)
# shellcheck disable=SC2206
[ -n "${SCENARIOS:-}" ] && args+=(--scenarios $SCENARIOS)

mkdir -p "$OUT"
status=0
"$VENVS/tools/bin/python" bench/harness.py --out "$OUT" "${args[@]}" || status=$?
if [ "$status" = 130 ]; then exit 130; fi
# The report is written even when a check failed: it shows which answers were wrong.
"$VENVS/tools/bin/python" bench/report.py "$OUT"
if [ -n "$broken_peers" ]; then
  shout "ERROR: these peers failed to install although the package registry is reachable:$broken_peers" \
        "(logs in $VENVS/); their results are missing from $OUT/REPORT.md"
  status=1
fi
if [ "$status" != 0 ]; then
  die "wrong answers, failed runs or peers that failed to install (listed above and at the top of $OUT/REPORT.md)"
fi
log "done: $OUT/REPORT.md"
