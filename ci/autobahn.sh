#!/usr/bin/env bash
# Autobahn|Testsuite's fuzzingclient (the mode that tests a *server*) against fastcore's echo
# app (tests/apps/autobahn_echo.py), on the GIL and the free-threaded builds; fails on any case
# whose behaviour is FAILED (ci/autobahn/summarise.py prints the per-group counts).
#
#   bash ci/autobahn.sh                      cases 1-7, 9 and 10 on .venv-gil and .venv-313t (~1 min)
#   CASES='6.* 9.1.*' bash ci/autobahn.sh    chosen cases (wildcards as in Autobahn's spec)
#   VENVS=.venv-gil bash ci/autobahn.sh      one build only
#
# The suite on PyPI is Python 2 code, and there is no Docker here for its image. So it is
# provisioned into its own venv (.venv-autobahn, Python 3.11) from pinned versions: the
# autobahntestsuite sdist (sha256-checked), converted with lib2to3, plus ci/autobahn/py3.patch
# (octet strings: payloads go on the wire as the octets they were in Python 2; report writing;
# txaio.use_twisted()); autobahn 0.10.9, a release that still has the WebSocket modules it uses
# (autobahn.websocket.utf8validator/xormasker), and Twisted from ci/autobahn/requirements.txt.
# Reports (JSON and HTML per case) go to target/autobahn/. Not run: 12.* and 13.*
# (permessage-deflate, which fastcore does not negotiate; the suite marks them UNIMPLEMENTED).
set -euo pipefail
set -f  # the case patterns (1.*) are passed on, never globbed
cd "$(dirname "$0")/.."
root=$PWD
suite_version=25.10.1
suite_sha256=b083d6e15330fc16f3e5f0975cce2b15f21bfa0c6db09547316b1852c6dbd6df
venv=${AUTOBAHN_VENV:-$root/.venv-autobahn}
cases=${CASES:-1.* 2.* 3.* 4.* 5.* 6.* 7.* 9.* 10.*}
venvs=${VENVS:-.venv-gil .venv-313t}
out=${OUT:-$root/target/autobahn}
log() { echo "[autobahn] $*" >&2; }

provision() {
  local stamp; stamp="$suite_version $(cat ci/autobahn/requirements.txt ci/autobahn/py3.patch | sha256sum)"
  [ -f "$venv/.provisioned" ] && [ "$(cat "$venv/.provisioned")" = "$stamp" ] && return
  log "provisioning $venv"
  local py; py=$(command -v python3.11)  # lib2to3 is gone from 3.13
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/python" -m pip install -q -r ci/autobahn/requirements.txt
  local tmp; tmp=$(mktemp -d)
  "$venv/bin/python" -m pip download -q --no-deps --no-binary :all: -d "$tmp" "autobahntestsuite==$suite_version"
  echo "$suite_sha256  $tmp/autobahntestsuite-$suite_version.tar.gz" | sha256sum -c --quiet
  tar xzf "$tmp/autobahntestsuite-$suite_version.tar.gz" -C "$tmp"
  local src="$tmp/autobahntestsuite-$suite_version/autobahntestsuite"
  # The sources have CRLF line ends; the patch is written against LF.
  find "$src" -name '*.py' -exec sed -i 's/\r$//' {} +
  "$venv/bin/python" -W ignore -m lib2to3 -w -n "$src" >/dev/null 2>&1
  (cd "$tmp/autobahntestsuite-$suite_version" && git apply "$root/ci/autobahn/py3.patch")
  local site; site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  cp -r "$src" "$site/"
  rm -rf "$tmp"
  echo "$stamp" > "$venv/.provisioned"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

run_one() {  # run_one <venv>: serves the echo app from that venv and runs the cases against it
  local fc_venv=$1 name port pid spec status=0
  name=fastcore-$(basename "$fc_venv" | sed 's/^\.venv-//')
  port=$(free_port)
  mkdir -p "$out"
  "$fc_venv/bin/python" -m fastcore run tests.apps.autobahn_echo:app --host 127.0.0.1 --port "$port" \
      --threads 2 > "$out/$name-server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    grep -q "serving http" "$out/$name-server.log" && break
    kill -0 "$pid" 2>/dev/null || { cat "$out/$name-server.log" >&2; return 1; }
    sleep 0.1
  done
  spec="$out/$name-spec.json"
  python3 - "$spec" "$out/$name" "$name" "ws://127.0.0.1:$port/" $cases <<'EOF'
import json, sys
spec, outdir, agent, url, *cases = sys.argv[1:]
json.dump({"outdir": outdir, "servers": [{"agent": agent, "url": url}], "cases": cases,
           "exclude-cases": [], "exclude-agent-cases": {}}, open(spec, "w"))
EOF
  rm -rf "$out/$name"
  log "$name: cases $cases"
  # The bound is for a hang only: the cases take about a minute per build.
  (cd "$out" && timeout 900 "$venv/bin/python" -W ignore -c \
      'import sys; sys.argv[0] = "wstest"; from autobahntestsuite import wstest; wstest.run()' \
      -m fuzzingclient -s "$spec" > "$out/$name-client.log" 2>&1) || status=$?
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  if [ $status -ne 0 ] || [ ! -f "$out/$name/index.json" ]; then
    log "wstest failed (exit $status): $out/$name-client.log"; tail -20 "$out/$name-client.log" >&2; return 1
  fi
  python3 ci/autobahn/summarise.py "$out/$name/index.json"
}

provision
status=0
for v in $venvs; do
  run_one "$v" || status=1
done
exit $status
