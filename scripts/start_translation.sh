#!/usr/bin/env bash
# Start translation in the foreground (see services/*/service.conf).
exec "$(dirname "${BASH_SOURCE[0]}")/start_service.sh" translation "$@"
