#!/usr/bin/env bash
# Make sure the servers that the tests use are running: Redis (127.0.0.1:6379; its database 15 is emptied by
# the tests) and PostgreSQL (127.0.0.1:5432, database "test").
# Usage: scripts/services.sh   (make test calls it; TEST_REDIS_URL / TEST_POSTGRES_URL to use other servers)
set -euo pipefail

if [ -z "${TEST_REDIS_URL:-}" ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.2; done
  else
    echo "The tests need Redis on 127.0.0.1:6379 (or TEST_REDIS_URL=redis://host:port/db)." >&2
    exit 1
  fi
fi

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
