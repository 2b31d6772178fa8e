#!/usr/bin/env bash
# `make wheels`: manylinux wheels for each supported CPython on this platform, and an sdist, in dist/.
#
#   ci/wheels.sh                     cp311, cp312, cp313, cp313t and the sdist
#   PYTHONS="311 313t" ci/wheels.sh  only those (CI's short variant); NO_SDIST=1 skips the sdist
#
# Interpreters: python3.11 / python3.12 from PATH or pyenv's versions; GIL 3.13 and free-threaded
# 3.13t from ci/python313t.sh (pyenv's, or built from Debian's source once and cached, ~4-5 min
# each on 2 cores). An interpreter that cannot be had (Debian 12 and 13 ship no python3.12, so
# without pyenv there is none) is skipped with a warning, unless STRICT=1.
#
# The wheels are tagged manylinux_2_28: maturin audits the extension's glibc symbol versions against that policy and fails the build if it needs anything newer.
# They link through zig (`maturin --zig`, zig from the `ziglang` wheel), which targets glibc 2.28
# whatever the host has; ZIG=0 links with the host's toolchain instead, and then glibc 2.36's
# symbols (gettid, stat64, pthread_* in libc) need MANYLINUX=manylinux_2_34, the default then.
# Builds run one after another (one cargo build at a time; each reuses target/'s dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
pythons="${PYTHONS:-311 312 313 313t}"
if [ "${ZIG:-1}" = 0 ]; then policy="${MANYLINUX:-manylinux_2_34}"; else policy="${MANYLINUX:-manylinux_2_28}"; fi
log() { echo "[wheels] $*" >&2; }

ensure_rust() {
  command -v cargo >/dev/null 2>&1 && return
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  command -v cargo >/dev/null 2>&1 || { log "cargo not found: install the Rust toolchain (rustup)"; exit 1; }
}

works() {  # works <python> <X.Y>: it runs and is a GIL CPython X.Y (not a pyenv shim of another version)
  "$1" -c "import sys, sysconfig; assert sys.version_info[:2] == tuple(map(int, '$2'.split('.'))); assert not sysconfig.get_config_var('Py_GIL_DISABLED')" >/dev/null 2>&1
}

find_gil() {  # find_gil <X.Y>: PATH first, then pyenv's versions (this machine kind has 3.12 there)
  local c
  for c in "$(command -v "python$1" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$1".*/bin/"python$1"; do
    [ -n "$c" ] && [ -x "$c" ] && works "$c" "$1" && { echo "$c"; return; }
  done
  return 0
}

interpreter() {  # interpreter <311|312|313|313t>: prints a path, or nothing if none can be had
  case "$1" in
    311) find_gil 3.11 ;;
    312) find_gil 3.12 ;;
    313) bash ci/python313t.sh --gil || true ;;
    313t) bash ci/python313t.sh || true ;;
    *) log "unknown python $1"; exit 2 ;;
  esac
}

# `ci/wheels.sh --interpreter 312`: print the interpreter this script builds that wheel with.
if [ "${1:-}" = "--interpreter" ]; then interpreter "$2"; exit 0; fi

# maturin and zig (the `ziglang` wheel from PyPI) in a venv of their own, so the dev venvs stay
# as they are. zig links against glibc 2.28's symbols whatever this host's glibc is.
tools=target/wheel-tools
if [ ! -x "$tools/bin/maturin" ] || [ ! -x "$tools/bin/python" ] || ! "$tools/bin/python" -c "import ziglang" 2>/dev/null; then
  log "installing maturin and ziglang into $tools"
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check --only-binary=:all: "maturin>=1.8,<2" "ziglang==0.17.1"
fi
maturin="$tools/bin/maturin"

ensure_rust
mkdir -p dist
args=() missing=()
for p in $pythons; do
  py=$(interpreter "$p")
  if [ -z "$py" ]; then missing+=("$p"); continue; fi
  args+=(-i "$py")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "no interpreter for: ${missing[*]}; skipped (README, Installing)"
  [ "${STRICT:-0}" = 1 ] && exit 1
fi
[ ${#args[@]} -gt 0 ] || { log "no interpreter found"; exit 1; }

start=$SECONDS
zig=(--zig)
[ "${ZIG:-1}" = 0 ] && zig=()
(unset CONDA_PREFIX VIRTUAL_ENV; PATH="$PWD/$tools/bin:$PATH" \
   "$maturin" build --release "${zig[@]}" --compatibility "$policy" --out dist "${args[@]}" 1>&2)
log "wheels built in $((SECONDS - start)) s"
if [ "${NO_SDIST:-0}" != 1 ]; then
  "$maturin" sdist --out dist 1>&2
fi
ls -l dist >&2
