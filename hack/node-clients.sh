#!/usr/bin/env bash
# Installs the Node.js client libraries the tests of test/clients run
# (BullMQ, ioredis, pinned by test/clients/node/package-lock.json), and
# Node.js itself from Debian when the machine has none (as root). Does
# nothing when they are installed and up to date.
set -euo pipefail
cd "$(dirname "$0")/../test/clients/node"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ]; then
    echo "node-clients: Node.js and npm are needed (apt-get install nodejs npm)" >&2
    exit 1
  fi
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi
if [ -f node_modules/.package-lock.json ] && [ node_modules/.package-lock.json -nt package-lock.json ]; then
  exit 0
fi
npm ci --ignore-scripts --no-audit --no-fund
