#!/usr/bin/env bash
# Make sure the PostgreSQL server the tests use is running on 127.0.0.1:5432 (trust auth,
# database `test`). Starts the local cluster if it is installed but stopped; installs it with
# apt-get (as root) if it is missing. Set VOLCREDIT_TEST_PG_URL to use another server instead.
set -euo pipefail

if [ -n "${VOLCREDIT_TEST_PG_URL:-}" ]; then
  exit 0
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  exit 0
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed; install it or set VOLCREDIT_TEST_PG_URL" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432
# The suite connects as `postgres` without a password (trust auth) to the database `test`.
if ! psql -h 127.0.0.1 -U postgres -d test -c 'select 1' >/dev/null 2>&1; then
  hba=$(su postgres -c "psql -tAc 'show hba_file'")
  if ! grep -q "volcredit-tests" "$hba"; then
    sed -i '1i host all all 127.0.0.1/32 trust # volcredit-tests' "$hba"
    su postgres -c "psql -qc 'select pg_reload_conf()'" >/dev/null
  fi
  su postgres -c "psql -tAc \"select 1 from pg_database where datname='test'\"" | grep -q 1 ||
    su postgres -c "createdb -E UTF8 -T template0 test"
fi
