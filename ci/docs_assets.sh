#!/usr/bin/env bash
# Fetches the docs pages' JavaScript and CSS from the npm registry into
# python/fastcore/openapi/static/ (git-ignored; shipped in the wheel by [tool.maturin] include).
# Versions are pinned and each tarball's sha256 checked; re-running with the files present does
# nothing. Run by ci/setup.sh; `FORCE=1` fetches again.
set -euo pipefail
cd "$(dirname "$0")/.."
SWAGGER_UI=5.35.0
SWAGGER_UI_SHA256=1b8e891893404ea4c3558b6a87e2a3e494e7eedba41168c2ece5800a391a6ea6
REDOC=2.5.2
REDOC_SHA256=b80462bec8e96d985086b1a23768f46f0776ed37c719b9a752fd443557282e03
dest=python/fastcore/openapi/static
files=(swagger-ui-bundle.js swagger-ui.css oauth2-redirect.js favicon-32x32.png redoc.standalone.js VERSIONS)
log() { echo "[docs-assets] $*" >&2; }

if [ -z "${FORCE:-}" ] && [ -f "$dest/VERSIONS" ] && \
   [ "$(cat "$dest/VERSIONS")" = "swagger-ui-dist $SWAGGER_UI, redoc $REDOC" ]; then
  missing=0
  for f in "${files[@]}"; do [ -f "$dest/$f" ] || missing=1; done
  [ $missing = 0 ] && exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fetch() {  # fetch <package> <version> <sha256>
  local url="https://registry.npmjs.org/$1/-/$1-$2.tgz"
  log "fetching $url"
  curl -fsSL --retry 3 -o "$tmp/$1.tgz" "$url"
  echo "$3  $tmp/$1.tgz" | sha256sum -c --quiet - || { log "sha256 mismatch for $1-$2"; exit 1; }
  mkdir -p "$tmp/$1" && tar xzf "$tmp/$1.tgz" -C "$tmp/$1"
}
fetch swagger-ui-dist "$SWAGGER_UI" "$SWAGGER_UI_SHA256"
fetch redoc "$REDOC" "$REDOC_SHA256"
mkdir -p "$dest"
for f in swagger-ui-bundle.js swagger-ui.css oauth2-redirect.js favicon-32x32.png; do
  cp "$tmp/swagger-ui-dist/package/$f" "$dest/$f"
done
cp "$tmp/redoc/package/bundles/redoc.standalone.js" "$dest/redoc.standalone.js"
cp "$tmp/swagger-ui-dist/package/LICENSE" "$dest/LICENSE.swagger-ui" 2>/dev/null || true
cp "$tmp/redoc/package/LICENSE" "$dest/LICENSE.redoc" 2>/dev/null || true
echo "swagger-ui-dist $SWAGGER_UI, redoc $REDOC" > "$dest/VERSIONS"
log "assets in $dest: $(du -sh "$dest" | cut -f1)"
