#!/usr/bin/env bash
# A real Apache Solr 9 for the tests, the demo and the benchmarks: jars from
# Maven Central (dev/solr/pom.xml), run by dev/solr/SolrLauncher.java with one
# core, "ckan", on CKAN's own schema.xml from the installed ckan package.
#
#   dev/solr/solr.sh fetch                          jars into .solr/lib (cached in ~/.m2)
#   dev/solr/solr.sh start PORT HOME_DIR LOG_FILE   start in the background, wait for
#                                                   /admin/ping, print the core's URL
#   dev/solr/solr.sh stop HOME_DIR                  stop the Solr started on HOME_DIR
#   dev/solr/solr.sh free-port                      print a free TCP port on 127.0.0.1
#
# start fetches first when needed. Environment, all optional:
#   JAVA                java 11 or later (default: java on PATH)
#   SOLR_JAVA_OPTS      JVM options (default below)
#   SOLR_DATA           index directory (default: HOME_DIR/ckan/data)
#   SOLR_MEMORY_INDEX   non-empty: keep the index in memory, gone at stop; a
#                       commit then costs no fsync (tests)
#   SOLR_SCHEMA         schema.xml to use (default: the installed ckan package's)
#   VENV                virtualenv with ckan, to find that schema (default: .venv)
#   SOLR_WATCH_PID      stop Solr when this process ends (e.g. the test runner)
#   SOLR_START_TIMEOUT  seconds to wait for the first ping (default: 90)
#   PYTHON              python for free-port (default: python3)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SOLR_DIR="$ROOT/.solr"
LIB="$SOLR_DIR/lib"
STAMP="$SOLR_DIR/lib.pom.sha256"
JAVA="${JAVA:-java}"
# Serial GC and the C1 compiler only: on a small machine shared with the test
# run they start Solr in about half the time, for a few per cent of query speed.
SOLR_JAVA_OPTS="${SOLR_JAVA_OPTS:--Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}"

die() { printf 'solr.sh: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '/^#   dev\/solr\/solr.sh fetch/,/^#$/{/^#$/d;s/^#  //;p}' "${BASH_SOURCE[0]}" >&2
    exit 2
}

pom_sum() { sha256sum "$HERE/pom.xml" | cut -d ' ' -f 1; }

# Copy Solr and its runtime dependencies into .solr/lib unless the jars there
# came from this very pom.xml. Into a scratch directory first, so an
# interrupted or failed download never looks complete; under a lock, so
# parallel test runs fetch once.
fetch() {
    [ -d "$LIB" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$(pom_sum)" ] && return 0
    command -v mvn >/dev/null || die "mvn not found: install Maven (apt-get install maven)"
    mkdir -p "$SOLR_DIR"
    printf '*\n' >"$SOLR_DIR/.gitignore" # downloads, never committed
    (
        flock 9
        # Another run may have fetched while we waited for the lock.
        [ -d "$LIB" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$(pom_sum)" ] && exit 0
        rm -rf "$LIB.partial"
        # The plugin by its full name (its version comes from pom.xml): with
        # an empty ~/.m2 and no network, "dependency:" alone fails as "No
        # plugin found for prefix", hiding Maven's real "Could not transfer
        # artifact … Unknown host". Maven's errors go to stderr as they are,
        # less the colour resets Maven 3.8 prints even in batch mode.
        if ! mvn -q -B -f "$HERE/pom.xml" \
                org.apache.maven.plugins:maven-dependency-plugin:copy-dependencies \
                -DoutputDirectory="$LIB.partial" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2; then
            rm -rf "$LIB.partial"
            die "Maven could not fetch Solr (its error is above)"
        fi
        rm -rf "$LIB"
        mv "$LIB.partial" "$LIB"
        pom_sum >"$STAMP"
    ) 9>"$SOLR_DIR/fetch.lock"
}

pid_file() { printf '%s/solr.pid' "$1"; }

# Alive and not a zombie: once the starting shell has gone, an exited Solr
# can wait a while for its new parent to reap it, and kill -0 still succeeds.
alive() {
    local state
    state="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" || return 1
    [ -n "$state" ] && [ "$state" != Z ]
}

# The pid in HOME_DIR/solr.pid if that process is alive and is our launcher,
# so a stale file never makes us signal an unrelated process.
running_pid() {
    local file pid
    file="$(pid_file "$1")"
    [ -f "$file" ] || return 1
    pid="$(cat "$file")"
    [ -n "$pid" ] && alive "$pid" || return 1
    [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *SolrLauncher.java* ]] || return 1
    printf '%s' "$pid"
}

# Into a variable, not through grep -q: with pipefail, grep leaving early can
# fail the pipe.
ping_ok() {
    local body
    body="$(curl -fsS --max-time 5 "$1/admin/ping?wt=json" 2>/dev/null)" || return 1
    [[ "$body" == *'"status":"OK"'* ]]
}

start() {
    [ $# = 3 ] || usage
    local port="$1" home log url pid deadline
    [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, not $port"
    command -v curl >/dev/null || die "curl not found"
    home="$(mkdir -p "$2" && cd "$2" && pwd)"
    mkdir -p "$(dirname "$3")"
    log="$(cd "$(dirname "$3")" && pwd)/$(basename "$3")"
    if pid="$(running_pid "$home")"; then
        die "Solr already runs on $home (pid $pid); stop it first"
    fi
    # Otherwise a server already there could answer our pings.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        die "port $port is already in use"
    fi
    fetch
    url="http://127.0.0.1:$port/solr/ckan"

    local args=(--host 127.0.0.1 --port "$port" --home "$home" --log "$log")
    [ -n "${SOLR_DATA:-}" ] && args+=(--data "$SOLR_DATA")
    [ -n "${SOLR_SCHEMA:-}" ] && args+=(--schema "$SOLR_SCHEMA")
    [ -n "${SOLR_WATCH_PID:-}" ] && args+=(--watch-pid "$SOLR_WATCH_PID")
    local opts="$SOLR_JAVA_OPTS"
    if [ -n "${SOLR_MEMORY_INDEX:-}" ]; then
        opts+=" -Dsolr.directoryFactory=solr.ByteBuffersDirectoryFactory -Dsolr.lock.type=single"
    fi
    : >>"$log"
    # Word splitting of $opts is intended: it holds several options.
    # shellcheck disable=SC2086
    "$JAVA" $opts -cp "$LIB/*" "$HERE/SolrLauncher.java" "${args[@]}" \
        </dev/null >>"$log" 2>&1 &
    pid=$!
    printf '%s\n' "$pid" >"$(pid_file "$home")"

    # Ready when this very process says so (the log may hold earlier runs)
    # and the core answers.
    deadline=$((SECONDS + ${SOLR_START_TIMEOUT:-90}))
    until grep -q "^Solr ready at .* (pid $pid)\$" "$log" && ping_ok "$url"; do
        if ! alive "$pid"; then
            rm -f "$(pid_file "$home")"
            tail -n 40 "$log" >&2
            die "Solr exited before answering on $url (log: $log)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            stop "$home" >/dev/null 2>&1 || true
            tail -n 40 "$log" >&2
            die "Solr did not answer on $url within ${SOLR_START_TIMEOUT:-90} s (log: $log)"
        fi
        sleep 0.2
    done
    printf '%s\n' "$url"
}

# SIGTERM runs the launcher's shutdown hook (commit, close the core, flush the
# log); SIGKILL only if that hangs.
stop() {
    [ $# = 1 ] || usage
    local home="$1" pid
    if ! pid="$(running_pid "$home")"; then
        rm -f "$(pid_file "$home")"
        return 0
    fi
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        printf 'solr.sh: pid %s ignored SIGTERM for 30 s; killing it\n' "$pid" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$home")"
}

# Bound and released at once: another process may take it before Solr does,
# in which case start fails fast (the launcher does not retry a taken port).
free_port() {
    "${PYTHON:-python3}" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

case "${1:-}" in
    fetch) shift; [ $# = 0 ] || usage; fetch ;;
    start) shift; start "$@" ;;
    stop) shift; stop "$@" ;;
    free-port) shift; [ $# = 0 ] || usage; free_port ;;
    *) usage ;;
esac
