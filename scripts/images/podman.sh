#!/usr/bin/env bash
# podman, with settings that let a root podman build and run on any Linux host, including the ones its
# defaults fail on: the default ulimits ask for more open files than many hosts allow, crun refuses hybrid
# cgroup layouts (runc does not), and without systemd neither the systemd cgroup manager nor journald events
# work. The settings live in .cache/ (generated, not committed); a CONTAINERS_CONF of your own wins.
#   scripts/images/podman.sh images
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"

if [ -z "${CONTAINERS_CONF:-}" ]; then
  nofile=$(ulimit -Hn)
  [ "$nofile" = unlimited ] && nofile=1048576
  conf="$root/.cache/containers/containers.conf"
  want=$(
    cat <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  )
  if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
    mkdir -p "$(dirname "$conf")"
    printf '%s\n' "$want" >"$conf.$$" && mv "$conf.$$" "$conf"
  fi
  export CONTAINERS_CONF="$conf"
fi
exec podman "$@"
