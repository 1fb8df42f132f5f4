#!/usr/bin/env bash
# Run a command with EXPT_TEST_POSTGRES_URL set: the caller's, or a throwaway
# cluster's (scripts/pg-test.sh) started for the command and stopped after it.
# Without a PostgreSQL server installed the variable stays empty, so the
# Postgres tests skip (and fail under CI=true, which must never skip them).
#
#   scripts/with-pg.sh go test ./...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${PG_TEST_DIR:-/tmp/expt-pg-test}
port=${PG_TEST_PORT:-55439}
if [[ -n ${EXPT_TEST_POSTGRES_URL:-} ]] || ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
	exec "$@"
fi
EXPT_TEST_POSTGRES_URL=$("$here/pg-test.sh" start "$dir" "$port")
export EXPT_TEST_POSTGRES_URL
trap '"$here/pg-test.sh" stop "$dir"' EXIT
"$@"
