#!/usr/bin/env bash
# ./scripts/run-job.sh <env> <job> [job flags] [--no-wait] [--yes] [--json]   (--help for details)
exec "$(dirname "${BASH_SOURCE[0]}")/_cli.sh" run-job "$@"
