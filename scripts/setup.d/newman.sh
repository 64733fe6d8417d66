#!/usr/bin/env bash
# Installs newman (the Postman collection runner) from npm into .tools/newman, exactly as pinned by
# postman/package.json and its package-lock.json; a second run does nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

target=.tools/newman
if ! cmp -s postman/package-lock.json "$target/.installed-lock" || [ ! -x "$target/node_modules/.bin/newman" ]; then
  command -v npm >/dev/null || { echo "npm is missing: apt-get install -y npm"; exit 1; }
  echo "[setup] npm ci newman into $target"
  rm -rf "$target" && mkdir -p "$target"
  cp postman/package.json postman/package-lock.json "$target/"
  npm ci --prefix "$target" --no-audit --no-fund --loglevel=error >/dev/null
  cp postman/package-lock.json "$target/.installed-lock"
fi
