#!/usr/bin/env bash
# The soak (bench/soak.py) on each build: REQUESTS mixed requests (default 1,000,000) against a
# 2-thread fastcore server on 3.13t, then on 3.11; fails if RSS grew 10% or more after warm-up,
# if descriptors were not given back, or if an unexpected status or socket error came back.
#   bash bench/soak.sh                      # the full run (about 2 minutes per build on 2 cores)
#   REQUESTS=20000 bash bench/soak.sh       # CI's short run
#   VENVS=.venv-313t bash bench/soak.sh     # one build
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS="${REQUESTS:-1000000}"
VENVS="${VENVS:-.venv-313t .venv-gil}"
if ! command -v wrk >/dev/null 2>&1; then
  echo "soak: installing wrk (apt)" >&2
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >&2 \
    || { echo "soak: could not install wrk" >&2; exit 1; }
fi
status=0
for venv in $VENVS; do
  echo "== soak: $REQUESTS requests on $venv =="
  python3 bench/soak.py --python "$venv/bin/python" --requests "$REQUESTS" || status=1
done
exit $status
