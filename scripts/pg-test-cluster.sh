#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL cluster:
#
#   scripts/pg-test-cluster.sh npm test
#
# creates a cluster in a temp directory on a free port, exports VISAGE_TEST_DATABASE_URL for the command
# (the PostgreSQL tests skip themselves without it), and stops and deletes the cluster when the command ends,
# however it ends. initdb refuses to run as root, so as root the cluster belongs to the `postgres` user
# (created by Debian's postgresql package). Needs PostgreSQL's server binaries (Debian: `postgresql`).
set -euo pipefail

if [ "$#" -eq 0 ]; then
  echo "usage: $0 COMMAND [ARG...]" >&2
  exit 2
fi

find_bin_dir() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  # Debian keeps the server binaries out of PATH, one directory per major version: take the newest.
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  echo "pg-test-cluster: PostgreSQL server binaries not found (apt-get install postgresql, or set PG_BIN)" >&2
  exit 1
}
BIN=$(find_bin_dir)

# A port nobody listens on now (the kernel picks it; a tiny race with other starters is acceptable for tests).
PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/visage-pg-XXXXXX")
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$(id -u)" -eq 0 ]; then chown postgres "$ROOT"; fi

stop_cluster() {
  as_owner "$BIN/pg_ctl" -D "$ROOT/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$ROOT"
}
trap stop_cluster EXIT

as_owner "$BIN/initdb" -D "$ROOT/data" -U visage --auth=trust --no-sync -E UTF8 --locale=C >"$ROOT/initdb.log" 2>&1 \
  || { cat "$ROOT/initdb.log" >&2; exit 1; }
# Test settings: no fsync (a crash loses nothing we keep), sockets in the cluster directory, localhost only.
as_owner "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w -t 30 \
  -o "-p $PORT -k $ROOT -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null || { cat "$ROOT/server.log" >&2; exit 1; }

export VISAGE_TEST_DATABASE_URL="postgres://visage@127.0.0.1:$PORT/postgres"
echo "pg-test-cluster: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on port $PORT ($ROOT)" >&2
set +e
"$@"
status=$?
set -e
exit "$status"
