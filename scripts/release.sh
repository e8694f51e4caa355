#!/usr/bin/env bash
# ./scripts/release.sh <env> [--from <job>] [--yes] [--json]   (--help for details)
exec "$(dirname "${BASH_SOURCE[0]}")/_cli.sh" release "$@"
