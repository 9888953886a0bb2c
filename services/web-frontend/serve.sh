#!/usr/bin/env bash
# Install (when needed), build (when stale) and serve the web UI on $WEB_PORT with /api and
# /v1 proxied to $WEB_GATEWAY_URL, by nginx with the container's nginx.conf (nginx-local.sh).
# Run from anywhere; used by `make run` via service.conf.
set -euo pipefail
cd "$(dirname "$0")"

# npm ci when node_modules is missing or package-lock.json changed since the last install.
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
if [ ! -d node_modules ] || [ "$(cat node_modules/.aip-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  echo "web-frontend: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.aip-lock-hash
fi

# Build when dist is missing or any source is newer than it.
stamp=dist/index.html
if [ ! -f "$stamp" ] || [ -n "$(find src index.html vite.config.ts svelte.config.js package-lock.json -newer "$stamp" -print -quit)" ]; then
  echo "web-frontend: vite build" >&2
  npx --no-install vite build --logLevel warn >&2
  touch "$stamp"
fi

export WEB_PORT="${WEB_PORT:-8080}"
export WEB_GATEWAY_URL="${WEB_GATEWAY_URL:-http://127.0.0.1:8090}"
exec bash ./nginx-local.sh
