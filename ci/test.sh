#!/usr/bin/env bash
# The whole test suite, from a fresh clone: provision, build, cargo tests, the benchmark smoke
# check, then pytest on both builds (last, so its summary closes the output).
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup.sh
bash ci/services.sh
# Redis/PostgreSQL tests fail, not skip, when their servers are missing.
export FASTCORE_REQUIRE_SERVICES=1

echo "== cargo test (router, JSON encoder) =="
# The test binary links libpython (since the JSON encoder rewrite), which lives in
# the interpreter's LIBDIR, not on the loader's path.
py313t="$(bash ci/python313t.sh)"
PYO3_PYTHON="$py313t" \
  LD_LIBRARY_PATH="$("$py313t" -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
  cargo test --no-default-features --quiet

echo "== wheel check (make wheels-test's short variant: cp311 and cp313t wheels installed by plain pip, with and without [nogil], each serving a request) =="
PYTHONS="311 313t" NO_SDIST=1 bash ci/wheels.sh
python3 ci/wheels_test.py --pythons 311,313t --strict

echo "== bench smoke check (QUICK=1: every server answers every scenario correctly; no speed judged) =="
QUICK=1 bash bench/run.sh

echo "== ecosystem bench smoke check (QUICK=1: Redis, PostgreSQL, httpx and sleep routes answer correctly on fastcore and FastAPI; no speed judged) =="
QUICK=1 bash bench/ecosystem.sh
echo "== WebSocket bench smoke check (QUICK=1: every server echoes 64 sockets' messages correctly; no speed judged) =="
QUICK=1 bash bench/ws.sh
echo "== API bench smoke check (QUICK=1: the realistic FastAPI route answers correctly on fastcore and FastAPI) =="
QUICK=1 bash bench/api.sh
echo "== static-file bench smoke check (QUICK=1: fastcore, nginx and Granian serve the same files correctly; no speed judged) =="
QUICK=1 bash bench/static.sh
echo "== TLS and HTTP/2 bench smoke check (QUICK=1: fastcore and Granian answer HTTPS, h2 and h2c load without a failed request; ratios printed, no speed judged) =="
QUICK=1 bash bench/protocols.sh

echo "== Autobahn|Testsuite fuzzingclient (cases 1-7, 9, 10 against the echo app on both builds; fails on any FAILED case or close) =="
bash ci/autobahn.sh

echo "== soak, short (bench/soak.sh with 20k requests per build: RSS growth under 10%, descriptors given back) =="
REQUESTS=20000 bash bench/soak.sh

status=0
for venv in .venv-gil .venv-313t; do
  echo "== pytest on $($venv/bin/python -c 'import sys, sysconfig; print(sys.version.split()[0], "free-threaded" if sysconfig.get_config_var("Py_GIL_DISABLED") else "GIL")') =="
  "$venv/bin/python" -m pytest -q -p no:cacheprovider tests || status=$?
done
exit $status
