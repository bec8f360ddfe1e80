#!/usr/bin/env bash
# One command: set everything up (including chromium and poppler for the browser and PDF
# tests) and run the whole test suite twice: on SQLite (the embedded default), then on
# PostgreSQL (DATABASE_URL deployments), after `ruff check` (a finding fails the script).
# Extra arguments go to pytest in both passes.
#
# PostgreSQL pass: the machine's local server (trust auth on 127.0.0.1:5432, or
# KIOSK_TEST_POSTGRES=postgresql+psycopg://user@host:port/admin_db), started here when it is
# installed but not running. Each run gets a fresh database, dropped at the end. Only tests
# that use a database run again (tests/conftest.py deselects the pure ones). Without a server
# the pass is skipped with the reason — except under CI=true, where that is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
# KIOSK_TEST_SKIP_SETUP=1 and KIOSK_PYTHON=… run the passes on an already set-up machine.
[ "${KIOSK_TEST_SKIP_SETUP:-}" = 1 ] || scripts/setup.sh --test || exit $?
py=${KIOSK_PYTHON:-.venv/bin/python}
server=${KIOSK_TEST_POSTGRES:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres}

# Lint first: a finding fails the run before minutes of tests (the rules: pyproject.toml).
echo "== ruff =="
"$py" -m ruff check . || exit $?

echo "== 1/2 SQLite =="
KIOSK_TEST_DATABASE_URL= "$py" -m pytest "$@"
sqlite_rc=$?

# Runs one SQL statement on the server's admin database; prints why not on failure.
admin_sql() {
  "$py" - "$server" "$1" <<'EOF'
import sys

import sqlalchemy as sa

try:
    engine = sa.create_engine(sys.argv[1], isolation_level="AUTOCOMMIT",
                              connect_args={"connect_timeout": 3})
    with engine.connect() as conn:
        conn.execute(sa.text(sys.argv[2]))
except Exception as exc:  # any reason at all means "no usable server"
    print(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    sys.exit(1)
EOF
}

pg_missing() {
  echo "PostgreSQL pass SKIPPED: $1" >&2
  if [ "${CI:-}" = "true" ]; then
    echo "CI=true: the suite must also pass on PostgreSQL; failing." >&2
    exit 1
  fi
  exit $sqlite_rc
}

echo "== 2/2 PostgreSQL =="
if ! why=$(admin_sql "select 1"); then
  if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
    version=$(ls /etc/postgresql | sort -V | tail -1)
    echo "starting the local PostgreSQL $version cluster"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      why=$(admin_sql "select 1") && break
      sleep 1
    done
  fi
  admin_sql "select 1" >/dev/null || pg_missing "no server answers at $server ($why)"
fi

db="kiosk_test_run_$(date +%s)_$$"
admin_sql "CREATE DATABASE \"$db\"" || pg_missing "cannot create a database at $server"
# Test data need not survive a crash: no fsync per commit (the tests commit thousands of times).
admin_sql "ALTER DATABASE \"$db\" SET synchronous_commit = off" >/dev/null
trap 'admin_sql "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null' EXIT
url=$("$py" -c 'import sys, sqlalchemy as sa; print(sa.engine.make_url(sys.argv[1]).set(database=sys.argv[2]).render_as_string(hide_password=False))' "$server" "$db")

start=$(date +%s)
KIOSK_TEST_DATABASE_URL="$url" "$py" -m pytest "$@"
pg_rc=$?
echo "PostgreSQL pass: $(( $(date +%s) - start )) s"
[ $sqlite_rc -ne 0 ] && exit $sqlite_rc
exit $pg_rc
