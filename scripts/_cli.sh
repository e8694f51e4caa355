#!/usr/bin/env bash
# Shared by the wrappers: runs src/ops/cli.ts with the project's own Node 24 (node_modules/.bin/node, from the
# `node` devDependency), which runs TypeScript directly — no tsx start-up cost. Usage: _cli.sh <command> [args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
node="$root/node_modules/.bin/node"
if [[ ! -x "$node" ]]; then
  echo "error: $node not found: run \`npm ci\` in $root first" >&2
  exit 2
fi
exec "$node" "$root/src/ops/cli.ts" "$@"
