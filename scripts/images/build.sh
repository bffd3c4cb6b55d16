#!/usr/bin/env bash
# Builds both service images with podman, from the repository root (so each Dockerfile.dockerignore applies),
# tagged as the chart names them by default: ward-<service>:<the chart's appVersion>. Their base, the Node.js
# image the Dockerfiles name, is made offline first when podman does not have it (node-base.sh). A warm build,
# with podman's layer cache, takes seconds.
#   scripts/images/build.sh            both images
#   scripts/images/build.sh gateway    one
set -euo pipefail
cd "$(dirname "$0")/../.."
podman=scripts/images/podman.sh

scripts/images/node-base.sh
tag=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' helm/ward/Chart.yaml)
services=("$@")
[ $# -gt 0 ] || services=(gateway worker)
for service in "${services[@]}"; do
  started=$SECONDS
  $podman build --quiet --pull=never --layers -f "services/$service/Dockerfile" -t "ward-$service:$tag" . >/dev/null
  size=$($podman image inspect --format '{{.Size}}' "ward-$service:$tag")
  echo "images: ward-$service:$tag built in $((SECONDS - started)) s ($((size / 1000000)) MB)"
done
