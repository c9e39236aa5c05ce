#!/usr/bin/env bash
# Installs everything kernelzoo needs on a fresh machine with Node 20: pnpm 12.4.2, the
# workspace's dependencies, and Debian's Chromium for the browser tests (nothing is downloaded
# from anywhere but the npm registry and Debian's archive).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "12.4.2" ]; then
  npm install -g pnpm@12.4.2
fi

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if command -v apt-get >/dev/null; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update
    $SUDO apt-get install -y chromium
  else
    echo "setup: Chromium is needed for the browser tests; install it and set CHROMIUM_PATH" >&2
    exit 1
  fi
fi

pnpm install --frozen-lockfile
