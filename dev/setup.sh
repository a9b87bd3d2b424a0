#!/usr/bin/env bash
# Prepare this machine for the test suite or the demo site. Idempotent: every
# step checks before it acts, so running it again is quick and changes nothing.
#
#   dev/setup.sh test   PostgreSQL (ckan_test + datastore_test, and the others the tests use), Redis, .venv, Solr, Chromium
#   dev/setup.sh demo   PostgreSQL (ckan_demo + datastore_demo), Redis, .venv, Solr
#   dev/setup.sh bench  PostgreSQL (ckan_bench + datastore_bench), Redis, .venv, Solr, matplotlib
#   dev/setup.sh stack  PostgreSQL (ckan_stack + datastore_stack), Redis, .venv, Solr (make stack)
#   dev/setup.sh load   PostgreSQL (ckan_load + datastore_load), Redis, .venv, Solr, matplotlib,
#                       locust in .venv-load (make bench-load)
#
# Solr: Apache Solr 9's jars from Maven Central into .solr/lib (dev/solr/pom.xml;
# Java 17 and Maven from Debian where missing); whoever runs Solr starts it
# (tests/conftest.py, dev/demo.sh, benchmarks/overhead.py through dev/solr/solr.sh).
#
# Needs root for the system packages (apt-get) and PostgreSQL roles; everything
# else lives in the checkout (.venv, .data, .solr) and ~/.m2 (Maven's cache).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:-test}"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
CKAN_VERSION="${CKAN_VERSION:-2.12.0}"
PG_USER=ckan_default
PG_PASSWORD=pass
DS_READ_USER=datastore_default

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'setup: %s\n' "$*" >&2; exit 1; }

APT_UPDATED=""
apt_install() {
    command -v apt-get >/dev/null || die "apt-get not found; install $* yourself"
    [ "$(id -u)" = 0 ] || die "installing $* needs root"
    if [ -z "$APT_UPDATED" ]; then
        apt-get update -qq
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

as_postgres() { (cd / && runuser -u postgres -- "$@"); }
psql_su() { as_postgres psql -X -q -v ON_ERROR_STOP=1 "$@"; }

ensure_postgres() {
    if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
        if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
            say "installing PostgreSQL"
            apt_install postgresql
        fi
        if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
            local ver
            ver="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
            say "creating PostgreSQL $ver cluster"
            pg_createcluster "$ver" main >/dev/null
        fi
    fi
    local ver name port status
    read -r ver name port status _ < <(pg_lsclusters -h | head -n 1)
    [ "$port" = 5432 ] || die "PostgreSQL cluster $ver/$name listens on $port; test.ini expects 5432"
    if [ "$status" != online ]; then
        say "starting PostgreSQL $ver/$name"
        pg_ctlcluster "$ver" "$name" start
    fi
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p 5432 && return 0
        sleep 1
    done
    die "PostgreSQL did not become ready"
}

ensure_role() {  # name password
    if [ "$(psql_su -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$1'")" != 1 ]; then
        psql_su -c "CREATE ROLE $1 LOGIN PASSWORD '$2'"
    fi
}

ensure_database() {  # name owner
    if [ "$(psql_su -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'")" != 1 ]; then
        say "creating database $1"
        as_postgres createdb -O "$2" -E utf-8 -T template0 "$1"
    fi
}

fast_commits() {  # database...: test data need no durability; no fsync wait per commit
    local db
    for db in "$@"; do
        psql_su -c "ALTER DATABASE $db SET synchronous_commit = off" >/dev/null
    done
}

ensure_redis() {
    if command -v redis-cli >/dev/null && redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
        return 0
    fi
    if ! command -v redis-server >/dev/null; then
        say "installing Redis"
        apt_install redis-server
    fi
    say "starting Redis on 127.0.0.1:6379"
    redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no \
        --logfile "$ROOT/.data/redis.log" --dir "$ROOT/.data"
    for _ in $(seq 1 20); do
        redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && return 0
        sleep 0.5
    done
    die "Redis did not start (see .data/redis.log)"
}

ensure_chromium() {
    # Debian's Chromium for the browser tests; Playwright never downloads its own.
    if [ ! -x /usr/bin/chromium ]; then
        say "installing Chromium"
        apt_install chromium fonts-dejavu-core
    fi
}

ensure_solr() {
    # Java 11 or later runs the launcher; Maven fetches Solr and its dependencies.
    if ! command -v java >/dev/null || ! java -version 2>&1 | grep -Eq 'version "(1[1-9]|[2-9][0-9])'; then
        say "installing Java 17"
        apt_install openjdk-17-jre-headless
    fi
    if ! command -v mvn >/dev/null; then
        say "installing Maven"
        apt_install maven
    fi
    [ -d "$ROOT/.solr/lib" ] || say "fetching Apache Solr 9 from Maven Central into .solr/lib"
    "$ROOT/dev/solr/solr.sh" fetch
}

ensure_demo_secrets() {
    # The demo's session and API token secrets: random, once per checkout, not in git.
    "$VENV/bin/python" "$ROOT/dev/demo_secrets.py" "$ROOT/.data/demo.ini"
}

ensure_venv() {
    # Reinstall only when the pins change: a stamp records what was installed.
    local want stamp="$VENV/.governance-stamp"
    want="ckan==$CKAN_VERSION $(cat "$ROOT/dev-requirements.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
    if [ -x "$VENV/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    say "preparing $VENV (CKAN $CKAN_VERSION, the extension, test tools)"
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip setuptools wheel
    "$VENV/bin/pip" install -q "ckan[requirements]==$CKAN_VERSION"
    "$VENV/bin/pip" install -q -r "$ROOT/dev-requirements.txt"
    "$VENV/bin/pip" install -q --no-deps -e "$ROOT"
    echo "$want" > "$stamp"
}

logged() {  # command...: output goes to .data/setup.log, shown only on failure
    "$@" >>"$LOG" 2>&1 || { tail -n 40 "$LOG" >&2; die "failed: $*"; }
}

init_database() {  # ini
    say "initialising the database ($(basename "$1"))"
    # CKAN warns here that Solr is unreachable: search is not needed to migrate.
    logged "$VENV/bin/ckan" -c "$1" db init
    # Plugin migrations: ckanext-activity's and ours (`ckan db upgrade -p governance`).
    logged "$VENV/bin/ckan" -c "$1" db pending-migrations --apply
    # The datastore's read-only role gets the rights `ckan datastore set-permissions` prescribes.
    "$VENV/bin/ckan" -c "$1" datastore set-permissions 2>>"$LOG" > "$ROOT/.data/datastore-permissions.sql"
    logged psql_su -f "$ROOT/.data/datastore-permissions.sql"
}

ensure_bench_tools() {
    # The plot of `make bench` (benchmarks/ratio.png); not needed by the tests.
    if ! "$VENV/bin/python" -c "import matplotlib" 2>/dev/null; then
        say "installing matplotlib into $VENV"
        "$VENV/bin/pip" install -q "matplotlib>=3.8,<4"
    fi
}

ensure_load_tools() {
    # The load generator lives in a virtualenv of its own: locust's gevent and
    # pins stay out of CKAN's.
    local venv="$ROOT/.venv-load" want="locust==2.47.0"
    if [ -x "$venv/bin/locust" ] && [ "$(cat "$venv/.governance-stamp" 2>/dev/null)" = "$want" ]; then
        return 0
    fi
    say "preparing $venv ($want)"
    [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
    "$venv/bin/pip" install -q "$want"
    echo "$want" > "$venv/.governance-stamp"
}

load_datastore_permissions() {
    local ini
    mkdir -p "$ROOT/.data/load"
    ini="$(cd "$ROOT" && "$VENV/bin/python" -c 'from benchmarks.load import stack; print(stack.write_ini("with", 5060, 8985))')"
    "$VENV/bin/ckan" -c "$ini" datastore set-permissions 2>>"$LOG" > "$ROOT/.data/load/datastore-permissions.sql"
    logged psql_su -f "$ROOT/.data/load/datastore-permissions.sql"
}

bench_datastore_permissions() {
    # The same script as for tests, for datastore_bench, from the benchmark's own ini.
    mkdir -p "$ROOT/.data/bench"
    local ini="$ROOT/.data/bench/permissions.ini"
    "$VENV/bin/python" "$ROOT/benchmarks/overhead.py" --write-ini "$ini"
    "$VENV/bin/ckan" -c "$ini" datastore set-permissions 2>>"$LOG" > "$ROOT/.data/bench/datastore-permissions.sql"
    logged psql_su -f "$ROOT/.data/bench/datastore-permissions.sql"
}

mkdir -p "$ROOT/.data"
LOG="$ROOT/.data/setup.log"
: > "$LOG"
ensure_postgres
ensure_role "$PG_USER" "$PG_PASSWORD"
ensure_role "$DS_READ_USER" "$PG_PASSWORD"
case "$TARGET" in
    test)
        ensure_database ckan_test "$PG_USER"
        ensure_database datastore_test "$PG_USER"
        # The second half of our suite, run beside the first (dev/test_shard.ini).
        ensure_database ckan_shard_test "$PG_USER"
        ensure_database datastore_shard_test "$PG_USER"
        # CKAN's own tests, run beside ours (dev/ckan_core/services.ini).
        ensure_database ckan_core_test "$PG_USER"
        ensure_database datastore_core_test "$PG_USER"
        # The wheel installed beside a plain CKAN (tests/integrations/test_packaging.py).
        ensure_database ckan_wheel_test "$PG_USER"
        # The second site served over HTTP (tests/remote_site.py: ckanapi, harvesting).
        ensure_database ckan_remote_test "$PG_USER"
        fast_commits ckan_test datastore_test ckan_shard_test datastore_shard_test ckan_core_test \
            datastore_core_test ckan_wheel_test ckan_remote_test
        ;;
    demo)
        ensure_database ckan_demo "$PG_USER"
        ensure_database datastore_demo "$PG_USER"
        ;;
    bench)
        ensure_database ckan_bench "$PG_USER"
        ensure_database datastore_bench "$PG_USER"
        ;;
    stack)
        ensure_database ckan_stack "$PG_USER"
        ensure_database datastore_stack "$PG_USER"
        ;;
    load)
        ensure_database ckan_load "$PG_USER"
        ensure_database datastore_load "$PG_USER"
        ;;
    *) die "unknown target $TARGET (test|demo|bench|stack|load)" ;;
esac
ensure_redis
ensure_venv
ensure_solr
case "$TARGET" in
    test)
        ensure_chromium
        init_database "$ROOT/test.ini"
        init_database "$ROOT/dev/test_shard.ini"
        init_database "$ROOT/dev/ckan_core/services.ini"
        ;;
    demo)
        ensure_demo_secrets
        init_database "$ROOT/.data/demo.ini"
        ;;
    stack)
        # The demo's configuration (and secrets) under the stack's own services.
        ensure_demo_secrets
        "$VENV/bin/python" "$ROOT/dev/stack/write_ini.py" "$ROOT" "${STACK_PORT:-5050}" \
            "${STACK_SOLR_PORT:-8984}" "${STACK_SMTP_PORT:-8026}"
        init_database "$ROOT/.data/stack.ini"
        ;;
    bench)
        # benchmarks/overhead.py resets and seeds its databases itself.
        ensure_bench_tools
        bench_datastore_permissions
        ;;
    load)
        # benchmarks/load/run.py resets and seeds its databases itself.
        ensure_bench_tools
        ensure_load_tools
        load_datastore_permissions
        ;;
esac
say "ready"
