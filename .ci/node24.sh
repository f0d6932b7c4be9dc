#!/usr/bin/env bash
# Node 24 LTS for CI, from the npm registry (the `node` package), installed once per machine into a
# cache outside the clone, so a fresh clone pays nothing after the first run (≈ 15 s, 30 MB download).
# Prints the folder of its `node` binary; use it as: PATH="$(.ci/node24.sh):$PATH".
#   CAMPUS_FOOD_LAB_CACHE   the cache folder (default ~/.cache/campus-food-lab)
set -euo pipefail
cache="${CAMPUS_FOOD_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/campus-food-lab}"
dir="$cache/node24"
bin="$dir/node_modules/node/bin"
is24() { "$bin/node" -e 'process.exit(process.versions.node.split(".")[0] === "24" ? 0 : 1)' 2>/dev/null; }
if ! is24; then
  echo "node24: installing node@24 from the npm registry into $dir" >&2
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/node24.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  # The package fetches its platform's binary in a preinstall script: a recent npm runs a
  # dependency's install script only when package.json allows it (an older npm ignores the field).
  (cd "$tmp" && echo '{"private":true,"allowScripts":{"node":true}}' >package.json &&
    npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error node@24 >&2)
  rm -rf "$dir" # a broken or older install
  # Two CI runs may race: the first rename wins, and the other run uses that install.
  mv -T "$tmp" "$dir" 2>/dev/null || true
  is24 || { echo "node24: $bin/node is not a working Node 24" >&2; exit 1; }
fi
echo "node24: $("$bin/node" --version) at $bin/node" >&2
echo "$bin"
