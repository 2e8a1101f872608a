#!/usr/bin/env bash
# Runs the README's test command the way a new machine would: in a fresh
# clone of the committed HEAD, with empty Deno and npm caches, so nothing a
# local cache holds can hide a missing install step or an unpinned version.
# Run it before changing dependencies or test helpers:
#   bash scripts/clean_clone_test.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git clone --quiet "$root" "$work/plugboard"
export DENO_DIR="$work/deno-cache"
export npm_config_cache="$work/npm-cache"
export NPM_CONFIG_CACHE="$work/npm-cache"
cd "$work/plugboard"
echo "clean clone of $(git rev-parse --short HEAD) in $work (DENO_DIR and the npm cache empty)"
start=$(date +%s)
status=0
npx -y deno@2.9.6 task test || status=$?
echo "npx -y deno@2.9.6 task test: exit ${status} after $(($(date +%s) - start)) s from empty caches"
exit "$status"
