# Shared provisioning for bench/ecosystem.sh, bench/api.sh and bench/ws.sh (sourced, not run):
# wrk (apt), fastcore's venvs (ci/setup.sh, if missing), the raw hyper baseline (cargo) and the
# Python 3.11 venvs the caller names in BENCH_VENVS (default "eco-311": FastAPI + uvicorn and the
# asyncio clients), each bench/.venvs/NAME made from bench/requirements-NAME.txt and rebuilt only
# when a requirements file or the interpreter changes. Sets PY311. Callers `set -euo pipefail`, cd
# to the repository and define log/die first.
VENVS=bench/.venvs

# --- system tools -----------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk (apt)"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >&2 \
    || die "could not install wrk; install it manually"
fi
command -v taskset >/dev/null 2>&1 || die "taskset (util-linux) is required for CPU pinning"
[ "$(nproc)" -ge 2 ] || log "WARNING: fewer than 2 CPUs: server and load generator share one (numbers will be noisy)"
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
  # shellcheck disable=SC1091  # rustup's env file, not in the repo
  . "$HOME/.cargo/env"
fi
command -v cargo >/dev/null 2>&1 || die "cargo is required (Rust toolchain)"

# --- fastcore itself and the raw hyper baseline (also the fan-out upstream) -------------------
missing=""
[ -x .venv-313t/bin/python ] || missing="$missing 313t"
[ -x .venv-gil/bin/python ] || missing="$missing gil"
if [ -n "$missing" ]; then
  log "building fastcore into the missing venv(s):$missing (ci/setup.sh)"
  TARGETS="${missing# }" bash ci/setup.sh
fi
log "building the raw hyper baseline (cargo, release)"
cargo build --release --quiet --manifest-path bench/hyper_baseline/Cargo.toml >&2

# --- Python 3.11 venvs: bench/.venvs/NAME from bench/requirements-NAME.txt ----------------------
# As bench/run.sh's make_venv: rebuilt only when a requirements file or the interpreter changes.
PY311=$(command -v python3.11 || command -v python3) || die "no python3.11 / python3 found"
for name in ${BENCH_VENVS:-eco-311}; do
  dir="$VENVS/$name"
  reqs="bench/requirements-$name.txt"
  stamp=$(sha256sum "$reqs" bench/requirements-peers-311.txt "$PY311" | sha256sum | cut -c1-16)
  if ! { [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] && [ -x "$dir/bin/python" ]; }; then
    log "provisioning $dir from $reqs"
    rm -rf "$dir"
    mkdir -p "$VENVS"
    if { "$PY311" -m venv "$dir" \
         && "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip \
         && "$dir/bin/python" -m pip install -q --disable-pip-version-check --prefer-binary -r "$reqs"; } \
         >"$VENVS/$name.log" 2>&1; then
      echo "$stamp" >"$dir/.stamp"
    else
      tail -n 5 "$VENVS/$name.log" >&2
      die "could not install $dir (see $VENVS/$name.log)"
    fi
  fi
done
