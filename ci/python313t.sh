#!/usr/bin/env bash
# Prints the path of a free-threaded CPython 3.13 interpreter, provisioning one if needed.
#
# Order of preference:
#   1. python3.13t already on PATH;
#   2. one provisioned earlier into the cache prefix ($FASTCORE_CACHE, default ~/.cache/fastcore);
#   3. `uv python install 3.13t` (needs the internet beyond package registries);
#   4. build CPython 3.13 with --disable-gil from the upstream tarball carried by Debian's
#      python3.13 source package (trixie deb-src), installed into the cache prefix.
# All progress goes to stderr; stdout is only the interpreter path.
set -euo pipefail

cache="${FASTCORE_CACHE:-$HOME/.cache/fastcore}"
prefix="$cache/cpython-3.13t"
log() { echo "[python313t] $*" >&2; }

is_ft313() {
  "$1" -c 'import sys, sysconfig; assert sys.version_info[:2] == (3, 13); assert sysconfig.get_config_var("Py_GIL_DISABLED")' >/dev/null 2>&1
}

if command -v python3.13t >/dev/null 2>&1 && is_ft313 "$(command -v python3.13t)"; then
  command -v python3.13t; exit 0
fi
if [ -x "$prefix/bin/python3.13t" ] && is_ft313 "$prefix/bin/python3.13t"; then
  echo "$prefix/bin/python3.13t"; exit 0
fi

if command -v uv >/dev/null 2>&1; then
  log "trying uv python install 3.13t"
  if timeout 120 uv python install 3.13t >&2 2>&1; then
    py=$(uv python find 3.13t 2>/dev/null || true)
    if [ -n "$py" ] && is_ft313 "$py"; then echo "$py"; exit 0; fi
  fi
  log "uv could not provide 3.13t; building from source"
fi

log "building CPython 3.13 (free-threaded) into $prefix"
export DEBIAN_FRONTEND=noninteractive
src_list=/etc/apt/sources.list.d/fastcore-trixie-src.sources
if [ ! -f "$src_list" ]; then
  cat > "$src_list" <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends dpkg-dev xz-utils build-essential pkg-config \
  libssl-dev libffi-dev zlib1g-dev libbz2-dev liblzma-dev libsqlite3-dev libreadline-dev \
  libncurses-dev uuid-dev libgdbm-dev libexpat1-dev >&2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get source --download-only python3.13 >&2
tarball=$(ls python3.13_*.orig.tar.* | head -1)
log "unpacking $tarball"
tar xf "$tarball"
srcdir=$(find . -maxdepth 1 -type d -name 'Python-3.13*' | head -1)
[ -n "$srcdir" ] || { log "no Python-3.13 directory in $tarball"; exit 1; }
cd "$srcdir"
./configure --prefix="$prefix" --disable-gil --enable-shared --with-ensurepip=install \
  LDFLAGS="-Wl,-rpath,$prefix/lib" >"$work/configure.log" 2>&1 || { tail -50 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -50 "$work/make.log" >&2; exit 1; }
make install >"$work/install.log" 2>&1 || { tail -50 "$work/install.log" >&2; exit 1; }
is_ft313 "$prefix/bin/python3.13t" || { log "built interpreter is not free-threaded 3.13"; exit 1; }
log "done"
echo "$prefix/bin/python3.13t"
