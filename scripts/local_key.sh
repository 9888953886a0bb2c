#!/usr/bin/env bash
# Print the local API key of `make run`, creating it once: <dir>/local-api-key (default .data/),
# readable by this user only (file 0600, folder 0700), like the gateway's database beside it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$root/.data}
mkdir -p "$dir"
chmod 700 "$dir"
keyfile="$dir/local-api-key"
if [ ! -s "$keyfile" ]; then
  ( umask 077; python3 -c 'import secrets; print("aip_local_" + secrets.token_urlsafe(24))' > "$keyfile" )
fi
chmod 600 "$keyfile"
cat "$keyfile"
