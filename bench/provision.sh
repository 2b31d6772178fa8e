# Shared provisioning for bench/run.sh, bench/ecosystem.sh, bench/api.sh and bench/ws.sh (sourced,
# not run): wrk (apt), fastcore's venvs (ci/setup.sh, if missing), the raw hyper baseline and its
# loadgen (cargo), and the Python 3.11 venvs the caller names in BENCH_VENVS (default "eco-311":
# FastAPI + uvicorn and the asyncio clients; "" for none), each bench/.venvs/NAME made from
# bench/requirements-NAME.txt; a venv that cannot be installed ends the run. Defines venv_from
# (bench/run.sh makes its peers' venvs with it, tolerating failures). Sets VENVS and PY311. Callers
# `set -euo pipefail`, cd to the repository and define log/die first.
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
log "building the raw hyper baseline and loadgen (cargo, release)"
cargo build --release --quiet --manifest-path bench/hyper_baseline/Cargo.toml >&2

# --- venvs: bench/.venvs/NAME from a requirements file --------------------------------------------
# venv_from <name> <python> <requirements file> [other files the venv depends on]: makes
# bench/.venvs/<name>, unless it is up to date (a hash of the files and the interpreter is kept in
# <venv>/.stamp, so it is rebuilt only when one of them changes). Returns non-zero if the install
# failed; its output is in bench/.venvs/<name>.log.
venv_from() {
  local name="$1" py="$2" req="$3" dir="$VENVS/$1" stamp
  stamp=$(sha256sum "$req" "${@:4}" "$py" 2>/dev/null | sha256sum | cut -c1-16)
  if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] && [ -x "$dir/bin/python" ]; then
    return 0
  fi
  log "provisioning $dir from $req"
  rm -rf "$dir" "$VENVS/$name.failed"
  mkdir -p "$VENVS"
  # --prefer-binary: wheels wherever they exist; pydantic-core for 3.13t may still build with cargo.
  { "$py" -m venv "$dir" \
    && "$dir/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip \
    && "$dir/bin/python" -m pip install -q --disable-pip-version-check --prefer-binary -r "$req"; } \
    >"$VENVS/$name.log" 2>&1 || return 1
  echo "$stamp" >"$dir/.stamp"
}

PY311=$(command -v python3.11 || command -v python3) || die "no python3.11 / python3 found"
# Each includes the peers' pins (-r requirements-peers-311.txt), so that file is in the stamp too.
for name in ${BENCH_VENVS-eco-311}; do
  if ! venv_from "$name" "$PY311" "bench/requirements-$name.txt" bench/requirements-peers-311.txt; then
    tail -n 5 "$VENVS/$name.log" >&2
    die "could not install $VENVS/$name (see $VENVS/$name.log)"
  fi
done
