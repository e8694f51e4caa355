#!/usr/bin/env bash
# ./scripts/list-jobs.sh <env> [--json]   (--help for details)
exec "$(dirname "${BASH_SOURCE[0]}")/_cli.sh" list-jobs "$@"
