#!/usr/bin/env bash
# Start web-frontend in the foreground (see services/*/service.conf).
exec "$(dirname "${BASH_SOURCE[0]}")/start_service.sh" web-frontend "$@"
