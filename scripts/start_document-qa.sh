#!/usr/bin/env bash
# Start document-qa in the foreground (see services/*/service.conf).
exec "$(dirname "${BASH_SOURCE[0]}")/start_service.sh" document-qa "$@"
