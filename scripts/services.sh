#!/usr/bin/env bash
# Make sure the PostgreSQL server that the tests use (127.0.0.1:5432, database "test") is running.
# Usage: scripts/services.sh   (make test calls it; set TEST_POSTGRES_URL to use another server)
set -euo pipefail

if [ -n "${TEST_POSTGRES_URL:-}" ]; then exit 0; fi
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  echo "Starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && exit 0; sleep 1; done
fi
echo "The tests need PostgreSQL on 127.0.0.1:5432 with a database 'test' that user postgres can use" >&2
echo "without a password (or TEST_POSTGRES_URL=postgresql://user@host:port/db pointing at one)." >&2
exit 1
