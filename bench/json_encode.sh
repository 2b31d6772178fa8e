#!/usr/bin/env bash
# JSON encoding microbenchmark (issue 13): fastcore's encoder against orjson and msgspec (3.11, in
# bench/.venvs/json-311 from bench/requirements-json-311.txt) and against the standard library
# encoder, on 3.11 and on 3.13t (where orjson and msgspec have no wheels). See bench/json_encode.py.
#
#   bash bench/json_encode.sh            # NUMBER=200 REPEAT=7 by default
#   BASELINE=/path/to/_core.cpython-311-x86_64-linux-gnu.so bash bench/json_encode.sh
#                                        # also measures that build (3.11) as "before"
set -euo pipefail
cd "$(dirname "$0")/.."
dir=bench/.venvs/json-311
stamp=$(sha256sum bench/requirements-json-311.txt | cut -c1-16)
if ! { [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ]; }; then
  rm -rf "$dir"
  mkdir -p bench/.venvs
  python3.11 -m venv "$dir"
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: -r bench/requirements-json-311.txt
  echo "$stamp" >"$dir/.stamp"
fi
[ -x .venv-gil/bin/python ] && [ -x .venv-313t/bin/python ] || bash ci/setup.sh
args=(--number "${NUMBER:-200}" --repeat "${REPEAT:-7}")
site=$("$dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
times=$(mktemp)
trap 'rm -f "$times"' EXIT
.venv-gil/bin/python bench/json_encode.py --extra-site "$site" ${BASELINE:+--baseline "$BASELINE"} \
  --times-out "$times" "${args[@]}"
echo
.venv-313t/bin/python bench/json_encode.py --compare "$times" "${args[@]}"
