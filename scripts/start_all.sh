#!/usr/bin/env bash
# Start every service (services/*/service.conf, by ORDER) as a local process, print where each
# listens, and stop them all on Ctrl-C. Logs go to .data/logs/<name>.log.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
logs="$root/.data/logs"
mkdir -p "$logs"
pids=()

stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; done
  wait 2>/dev/null
  echo "all services stopped"
}
trap 'stop_all; exit 0' INT TERM  # Ctrl-C is the normal way to stop: exit 0
trap stop_all EXIT

confs=$(for c in "$root"/services/*/service.conf; do
  [ -f "$c" ] || continue
  ( ORDER=50; . "$c"; echo "$ORDER $c" )
done | sort -n | cut -d' ' -f2-)

# Prepare every venv first, so the first start of a service is not a silent wait.
for c in $confs; do
  ( KIND=python; . "$c"; if [ "$KIND" = python ]; then "$root/scripts/venv.sh" "$(dirname "$c")" >/dev/null; fi ) || {
    echo "could not prepare $(dirname "$c")"; exit 1; }
done

# A local API key for the gateway, created once and kept in .data/local-api-key.
keyfile="$root/.data/local-api-key"
local_key=$("$root/scripts/local_key.sh" "$root/.data") || { echo "could not create $keyfile"; exit 1; }
export GATEWAY_API_KEYS="${GATEWAY_API_KEYS:-$local_key}"

# Routes of the services whose service.conf names a TASK (scripts/local_routes.py), unless the
# user gave the gateway a route table of their own.
if [ -z "${GATEWAY_ROUTES:-}" ] && [ -z "${GATEWAY_ROUTES_FILE:-}" ]; then
  GATEWAY_ROUTES=$(python3 "$root/scripts/local_routes.py") || { echo "could not read the services' routes"; exit 1; }
  export GATEWAY_ROUTES
fi

table=()
for c in $confs; do
  ( NAME=; PORT=; READY=/; . "$c"; echo "$NAME $PORT $READY" ) > "$logs/.cur"
  read -r name port ready < "$logs/.cur"
  setsid "$root/scripts/start_service.sh" "$name" > "$logs/$name.log" 2>&1 &
  pids+=("$!")
  printf 'starting %-14s on http://127.0.0.1:%s (log: .data/logs/%s.log)\n' "$name" "$port" "$name"
  ok=
  for _ in $(seq 1 600); do
    if curl -fsS -o /dev/null "http://127.0.0.1:$port$ready" 2>/dev/null; then ok=1; break; fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.5
  done
  if [ -n "$ok" ]; then table+=("$(printf '  %-14s http://127.0.0.1:%s' "$name" "$port")")
  else echo "  $name did not become ready; see .data/logs/$name.log"; tail -n 20 "$logs/$name.log"; fi
done
rm -f "$logs/.cur"

echo
echo "ai-platform is running:"
printf '%s\n' "${table[@]}"
echo
echo "local API key: $GATEWAY_API_KEYS"
echo "press Ctrl-C to stop everything"
wait
