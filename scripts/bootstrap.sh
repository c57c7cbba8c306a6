#!/usr/bin/env bash
# Installs npm dependencies when node_modules is missing or older than the lockfile (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[bootstrap] installing npm dependencies…"
  npm ci --no-audit --no-fund --loglevel=error
fi
