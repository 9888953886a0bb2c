#!/usr/bin/env bash
# The API types, generated (`make api-types` / `npm run gen:api`): the gateway's OpenAPI document
# (its routes' response models) -> tests/contracts/gateway-openapi.json -> src/lib/api.gen.ts.
# `--out DIR` writes both into DIR instead (tests/api-types.test.mjs compares them with the
# committed copies).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
json="$root/tests/contracts/gateway-openapi.json"
ts="$here/src/lib/api.gen.ts"
if [ "${1:-}" = "--out" ]; then
  mkdir -p "$2"
  json="$2/gateway-openapi.json"
  ts="$2/api.gen.ts"
fi
venv=$(bash "$root/scripts/venv.sh" services/gateway | tail -n 1)
"$venv/bin/python" -m gateway openapi --out "$json"
cd "$here"
npx --no-install openapi-typescript "$json" --output "$ts" --default-non-nullable=false >/dev/null
