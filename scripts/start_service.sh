#!/usr/bin/env bash
# Start one service in the foreground from its service.conf: scripts/start_service.sh <name>
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
name=${1:?usage: start_service.sh <name>}
conf=$(grep -l "^NAME=$name\$" "$root"/services/*/service.conf 2>/dev/null | head -n1 || true)
[ -n "$conf" ] || { echo "no service named '$name' (services/*/service.conf)" >&2; exit 2; }
dir=$(dirname "$conf")
KIND=python; RUN=; PORT=; READY=/
# shellcheck disable=SC1090
. "$conf"
cd "$dir"
if [ "$KIND" = python ]; then
  venv=$("$root/scripts/venv.sh" "$dir")
  export PATH="$venv/bin:$PATH" VIRTUAL_ENV="$venv"
fi
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} PYTHONUNBUFFERED=1
exec bash -c "exec $RUN"
