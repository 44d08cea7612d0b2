#!/usr/bin/env bash
# The PostgreSQL leg of the tests: the store, sync, digest and concurrency tests against a real
# PostgreSQL. Uses MATCHER_TEST_DATABASE_URL if set, else the server on 127.0.0.1:5432 (user
# postgres, trust auth) when one answers, else a private throwaway cluster started from the
# installed binaries (/usr/lib/postgresql/*/bin) in a temp dir on another port, stopped at the end.
# Each test gets a database of its own (matcher_t_*), dropped after it.
# The default list holds the multi-process pass tests (tests/matcher/operations/
# test_passes_processes.py: 2,000 learners in 2 processes, a kill, an outage on a private cluster).
#   bash scripts/test-postgres.sh                    # the default test files
#   bash scripts/test-postgres.sh tests/matcher/store -x     # other pytest arguments
# MATCHER_PYTHON picks the interpreter (default .venv/bin/python); PG_PRIVATE=1 forces the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${MATCHER_PYTHON:-.venv/bin/python}"
"$python" -c "import psycopg" 2>/dev/null || EXTRAS=test,postgres bash scripts/install.sh
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(tests/matcher/store tests/matcher/sync tests/matcher/cli/test_sync.py tests/matcher/operations tests/matcher/test_digest.py tests/test_deploy.py)

answers() {  # does a PostgreSQL answer at this URL?
    "$python" -c 'import sys, psycopg; psycopg.connect(sys.argv[1], connect_timeout=3).close()' \
        "${1/+psycopg/}" 2>/dev/null
}

start_private_cluster() {
    local port owner
    bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -x "$bin/initdb" ] || { echo "error: no PostgreSQL answers and none is installed" >&2; exit 1; }
    dir="$(mktemp -d /tmp/matcher-pg.XXXXXX)"
    port="$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    run=()
    if [ "$(id -u)" = 0 ]; then  # initdb refuses root: run the cluster as an ordinary user
        owner="$(id -u postgres >/dev/null 2>&1 && echo postgres || echo nobody)"
        chown "$owner" "$dir"
        run=(runuser -u "$owner" --)
    fi
    "${run[@]}" "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log"
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
    trap stop_private_cluster EXIT
    echo "started a private PostgreSQL on 127.0.0.1:$port ($dir)" >&2
    MATCHER_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
}

stop_private_cluster() {
    "${run[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null || true
    rm -rf "$dir"
}

if [ -z "${MATCHER_TEST_DATABASE_URL:-}" ]; then
    MATCHER_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/test"
    if [ -n "${PG_PRIVATE:-}" ] || ! answers "$MATCHER_TEST_DATABASE_URL"; then
        start_private_cluster
    fi
fi
export MATCHER_TEST_DATABASE_URL HF_HUB_OFFLINE=1
echo "PostgreSQL leg: ${MATCHER_TEST_DATABASE_URL}" >&2
"$python" -m pytest -q "${args[@]}"
