#!/usr/bin/env bash
# Prints the path of a free-threaded CPython 3.13 interpreter, provisioning one if needed.
# `python313t.sh --gil` does the same for an ordinary (GIL) CPython 3.13, which `make wheels`
# builds a cp313 wheel with and tests it on (same source, cached beside it as cpython-3.13).
#
# Order of preference:
#   1. python3.13t already on PATH;
#   2. one provisioned earlier into the cache prefix ($FASTCORE_CACHE, default ~/.cache/fastcore);
#      then one of pyenv's versions (pyenv ships GIL 3.13 builds, no 3.13t so far);
#   3. `uv python install 3.13t` (needs the internet beyond package registries);
#   4. build CPython 3.13 with --disable-gil from the upstream tarball carried by Debian's
#      python3.13 source package (trixie deb-src, from the archive URI apt is already configured
#      with; deb.debian.org only if apt names none), installed into the cache prefix.
# All progress goes to stderr; stdout is only the interpreter path.
set -euo pipefail

cache="${FASTCORE_CACHE:-$HOME/.cache/fastcore}"
if [ "${1:-}" = "--gil" ]; then
  shift
  t="" gil_flag="" want_ft=False uv_name=3.13
else
  t=t gil_flag=--disable-gil want_ft=True uv_name=3.13t
fi
prefix="$cache/cpython-3.13$t"
exe="python3.13$t"
log() { echo "[python313$t] $*" >&2; }

is_ft313() {  # the wanted build: free-threaded, or with --gil a GIL one
  "$1" -c "import sys, sysconfig; assert sys.version_info[:2] == (3, 13); assert bool(sysconfig.get_config_var('Py_GIL_DISABLED')) is $want_ft" >/dev/null 2>&1
}

# The Debian archive URI this machine's apt already uses, so the build fetches the source from
# the same mirror (or proxy) as every other package. Reads deb822 stanzas (`Types:`, `URIs:`,
# `Suites:`, `Enabled:`) from /etc/apt/sources.list.d/*.sources and one-line entries
# (`deb [options] URI suite components`) from /etc/apt/sources.list and sources.list.d/*.list,
# in apt's order, skipping the file this script writes. Takes the first entry for this
# release's codename (/etc/os-release: `bookworm` matches, `bookworm-security` does not), so a
# third-party repository is never taken for the archive; without a codename, the first entry
# that is not a -security one. Prints nothing if apt names no archive.
apt_archive_uri() {
  local codename="" files=() f
  codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}") || codename=""
  local etc="${FASTCORE_APT_ETC:-/etc/apt}"  # another directory, to test the parsing
  for f in "$etc"/sources.list "$etc"/sources.list.d/*.list "$etc"/sources.list.d/*.sources; do
    [ -f "$f" ] && [ "$f" != "$src_list" ] && files+=("$f")
  done
  [ ${#files[@]} -gt 0 ] || return 0
  awk -v codename="$codename" '
    function consider(types, uri, suites, enabled) {
      if (found || uri == "" || tolower(enabled) == "no") return
      if ((" " types " ") !~ / deb(-src)? /) return
      if (codename != "" && (" " suites " ") ~ (" " codename " ")) { print uri; found = 1; return }
      if (codename == "" && first == "" && suites !~ /-security/) first = uri
    }
    function flush() { consider(t, u, s, e); t = u = s = e = "" }
    FNR == 1 { flush() }
    /^[ \t]*#/ { next }
    FILENAME ~ /\.list$/ {
      sub(/#.*/, ""); gsub(/\[[^]]*\]/, "")
      if (NF >= 3) consider($1, $2, $3, "")
      next
    }
    /^[ \t]*$/ { flush(); next }
    { key = tolower($1); $1 = ""; sub(/^[ \t]+/, "") }
    key == "types:" { t = $0 } key == "uris:" { u = $1 } key == "suites:" { s = $0 } key == "enabled:" { e = $1 }
    END { flush(); if (!found && first != "") print first }
  ' "${files[@]}"
}
src_list=/etc/apt/sources.list.d/fastcore-trixie-src.sources

# `python313t.sh --apt-uri`: print the archive URI the build would use, and stop.
if [ "${1:-}" = "--apt-uri" ]; then
  uri=$(apt_archive_uri); echo "${uri:-http://deb.debian.org/debian}"; exit 0
fi

if command -v "$exe" >/dev/null 2>&1 && is_ft313 "$(command -v "$exe")"; then
  command -v "$exe"; exit 0
fi
if [ -x "$prefix/bin/$exe" ] && is_ft313 "$prefix/bin/$exe"; then
  echo "$prefix/bin/$exe"; exit 0
fi
for py in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.13*/bin/"$exe"; do  # pyenv's, if it has one
  if [ -x "$py" ] && is_ft313 "$py"; then echo "$py"; exit 0; fi
done

if command -v uv >/dev/null 2>&1; then
  log "trying uv python install $uv_name"
  if timeout 120 uv python install "$uv_name" >&2 2>&1; then
    py=$(uv python find "$uv_name" 2>/dev/null || true)
    if [ -n "$py" ] && is_ft313 "$py"; then echo "$py"; exit 0; fi
  fi
  log "uv could not provide 3.13t; building from source"
fi

log "building CPython 3.13 ${gil_flag:-(GIL)} into $prefix"
export DEBIAN_FRONTEND=noninteractive
if [ ! -f "$src_list" ]; then
  uri=$(apt_archive_uri)
  if [ -z "$uri" ]; then
    uri=http://deb.debian.org/debian
    log "apt names no Debian archive; using $uri"
  fi
  log "trixie deb-src from $uri (the archive apt already uses)"
  cat > "$src_list" <<SRC
Types: deb-src
URIs: $uri
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
./configure --prefix="$prefix" $gil_flag --enable-shared --with-ensurepip=install \
  LDFLAGS="-Wl,-rpath,$prefix/lib" >"$work/configure.log" 2>&1 || { tail -50 "$work/configure.log" >&2; exit 1; }
make -j"$(nproc)" >"$work/make.log" 2>&1 || { tail -50 "$work/make.log" >&2; exit 1; }
make install >"$work/install.log" 2>&1 || { tail -50 "$work/install.log" >&2; exit 1; }
is_ft313 "$prefix/bin/$exe" || { log "built interpreter is not the wanted 3.13 build"; exit 1; }
log "done"
echo "$prefix/bin/$exe"
