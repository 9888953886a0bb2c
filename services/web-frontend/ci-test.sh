#!/usr/bin/env bash
# CI entry point (scripts/run_tests.py): install, type-check, unit tests with a JUnit report
# at $JUNIT_XML, and a production build. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
: "${JUNIT_XML:=$PWD/junit.xml}"
mkdir -p "$(dirname "$JUNIT_XML")"
npm ci --no-audit --no-fund --loglevel=error
lock_hash=$(sha256sum package-lock.json | cut -c1-16)
echo "$lock_hash" > node_modules/.aip-lock-hash
npx --no-install svelte-check --tsconfig ./tsconfig.json --fail-on-warnings
npx --no-install vitest run --reporter=default --reporter=junit --outputFile.junit="$JUNIT_XML"
npx --no-install vite build --logLevel warn
