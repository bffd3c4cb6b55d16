#!/usr/bin/env bash
# Prepares a fresh machine (Debian, Node 20+) for ward: the pinned pnpm, the locked dependencies,
# and a PostgreSQL and Redis on their standard local ports (started when installed but down).
# Safe to run again: each step does nothing when its work is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

pnpm_version=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$pnpm_version" ]; then
  echo "bootstrap: installing pnpm $pnpm_version"
  npm install --global --no-fund --no-audit "pnpm@$pnpm_version" >/dev/null
fi

pnpm install --frozen-lockfile

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
