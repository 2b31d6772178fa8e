#!/usr/bin/env bash
# Installs what the ecosystem tests need from Debian's packages: Redis and PostgreSQL servers
# (the tests start them on private ports and stop them; tests/services.py), libpq for psycopg,
# openssl for a throwaway TLS certificate, chromium for the docs-page browser test, nginx
# for the static-file bench's peer, and h2load (nghttp2-client) and wrk for bench/protocols.sh.
# Nothing is started here.
set -euo pipefail
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
ldconfig -p | grep -q 'libpq\.so\.5' || missing+=(libpq5)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# tests/test_docs.py opens /docs in a real headless browser.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# bench/static.sh (its QUICK=1 check runs in ci/test.sh) compares static files with nginx.
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
# bench/protocols.sh (QUICK=1 in ci/test.sh) loads HTTP/2 with h2load and HTTPS with wrk.
command -v h2load >/dev/null 2>&1 || missing+=(nghttp2-client)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[services] installing ${missing[*]} (apt)" >&2
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  # The package starts its own servers; the tests run theirs on private ports instead.
  $sudo service redis-server stop >/dev/null 2>&1 || true
  $sudo service postgresql stop >/dev/null 2>&1 || true
  $sudo service nginx stop >/dev/null 2>&1 || true
fi
