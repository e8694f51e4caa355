#!/usr/bin/env bash
# ./scripts/create-all-jobs.sh <env> [--plan] [--prune] [--image <ref>] [--yes] [--json]   (--help for details)
exec "$(dirname "${BASH_SOURCE[0]}")/_cli.sh" create-all-jobs "$@"
