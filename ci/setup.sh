#!/usr/bin/env bash
# Provisions both interpreters, creates a venv for each and builds fastcore into them.
#
#   ci/setup.sh            -> .venv-313t (free-threaded 3.13) and .venv-gil (the machine's python3)
#   TARGETS=313t ci/setup.sh   only the free-threaded one
# Re-running is cheap: interpreters are cached, venvs are reused, cargo builds incrementally.
set -euo pipefail
cd "$(dirname "$0")/.."
targets="${TARGETS:-313t gil}"
log() { echo "[setup] $*" >&2; }

ensure_rust() {
  command -v cargo >/dev/null 2>&1 && return
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  command -v cargo >/dev/null 2>&1 || { log "cargo not found: install the Rust toolchain (rustup)"; exit 1; }
}

make_venv() {  # make_venv <python> <dir> <extras>
  local py="$1" dir="$2" extras="$3"
  if [ ! -x "$dir/bin/python" ]; then
    log "creating $dir from $py"
    "$py" -m venv "$dir"
  fi
  "$dir/bin/python" -m pip install -q --upgrade pip >/dev/null
  "$dir/bin/python" -m pip install -q --only-binary=:all: "maturin>=1.8,<2" -r ci/requirements-test.txt "$extras"
  log "building fastcore into $dir"
  (unset CONDA_PREFIX; VIRTUAL_ENV="$PWD/$dir" PATH="$PWD/$dir/bin:$PATH" \
     "$dir/bin/maturin" develop --release --quiet 1>&2)
}

ensure_rust
for t in $targets; do
  case "$t" in
    313t) py313t=$(bash ci/python313t.sh)
          make_venv "$py313t" .venv-313t "pydantic>=2.12,<2.12.4" ;;
    gil)  pygil=$(command -v python3.11 || command -v python3)
          make_venv "$pygil" .venv-gil "pydantic>=2.12,<2.12.4"
          # stubtest checks _core.pyi against the extension (tests/test_stub.py); mypy does
          # not build on 3.13t, so only here.
          .venv-gil/bin/python -m pip install -q "mypy>=1.13"
          # FastAPI itself, to compare answers with (tests/compat.py).
          .venv-gil/bin/python -m pip install -q --only-binary=:all: -r ci/requirements-compare.txt ;;
    *) log "unknown target $t"; exit 2 ;;
  esac
done
