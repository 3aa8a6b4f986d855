#!/usr/bin/env bash
# Builds the release archive the Ansible roles install (install method "archive"):
#   dist/seconet-<version>.tar.gz  ->  seconet-<version>/{package.json, packages/*/dist, proto, bpf objects, sn-nsconf,
#                                       node_modules (production only), docs, deploy, examples}
# Run on a Debian 12 machine like the targets (better-sqlite3 is a native module).
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p "require('./package.json').version")
bash scripts/setup.sh
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
dest="$stage/seconet-$version"
mkdir -p "$dest"
cp -a package.json package-lock.json .npmrc proto docs deploy examples README.md "$dest/"
for p in packages/*; do
  mkdir -p "$dest/$p"
  cp -a "$p/package.json" "$dest/$p/"
  [ -d "$p/dist" ] && cp -a "$p/dist" "$dest/$p/"
  [ -d "$p/bin" ] && cp -a "$p/bin" "$dest/$p/"
done
mkdir -p "$dest/packages/agent/bpf" && cp -a packages/agent/bpf/*.o packages/agent/bpf/*.c "$dest/packages/agent/bpf/" 2>/dev/null || true
mkdir -p "$dest/packages/agent/native" && cp -a packages/agent/native/sn-nsconf packages/agent/native/sn-gate packages/agent/native/*.c "$dest/packages/agent/native/" 2>/dev/null || true
cp -a node_modules "$dest/"
(cd "$dest" && npm prune --omit=dev --no-audit --no-fund --loglevel=error)
mkdir -p dist
tar -C "$stage" -czf "dist/seconet-$version.tar.gz" "seconet-$version"
echo "dist/seconet-$version.tar.gz"
