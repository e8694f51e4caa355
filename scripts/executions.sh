#!/usr/bin/env bash
# ./scripts/executions.sh <env> [job] | describe|logs|cancel <execution>   (--help for details)
exec "$(dirname "${BASH_SOURCE[0]}")/_cli.sh" executions "$@"
