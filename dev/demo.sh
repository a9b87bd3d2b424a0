#!/usr/bin/env bash
# Serve the demo site in the foreground (Ctrl-C stops it and the Solr it started).
# Called by `make demo` after dev/setup.sh demo.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
INI="$ROOT/.data/demo.ini"  # dev/demo.ini with this checkout's secrets (dev/setup.sh)
HOST=127.0.0.1
PORT="${DEMO_PORT:-5000}"
SOLR_PORT="${DEMO_SOLR_PORT:-8983}"

ping() {  # url: succeeds when the search service answers
    "$VENV/bin/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" >/dev/null 2>&1
}

SOLR_HOME="$ROOT/.data/demo-solr"  # the index stays here across restarts
pids=()
own_solr=
cleanup() {
    [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null || true
    [ -z "$own_solr" ] || "$ROOT/dev/solr/solr.sh" stop "$SOLR_HOME"
}
trap cleanup EXIT INT TERM

if [ -z "${CKAN_SOLR_URL:-}" ]; then
    export CKAN_SOLR_URL="http://$HOST:$SOLR_PORT/solr/ckan"
    # A demo Solr left running (or one of your own on that port) is used as it is.
    if ! ping "$CKAN_SOLR_URL/admin/ping"; then
        echo "starting Apache Solr on port $SOLR_PORT (log: .data/demo-solr.log)"
        own_solr=1
        VENV="$VENV" "$ROOT/dev/solr/solr.sh" start "$SOLR_PORT" "$SOLR_HOME" "$ROOT/.data/demo-solr.log" >/dev/null
    fi
fi

# A local mail sink: the demo's notifications end up in .data/demo-mail.log.
"$VENV/bin/python" -m aiosmtpd -n -l 127.0.0.1:8025 -c aiosmtpd.handlers.Debugging \
    >>"$ROOT/.data/demo-mail.log" 2>&1 &
pids+=($!)

"$VENV/bin/ckan" -c "$INI" db pending-migrations --apply >/dev/null
"$VENV/bin/python" "$ROOT/dev/demo_data.py" "$INI"
# Datasets the index does not hold yet (a new Solr home, an index removed by hand).
"$VENV/bin/ckan" -c "$INI" search-index rebuild --only-missing >/dev/null 2>&1

echo
echo "Demo site: http://$HOST:$PORT   (Ctrl-C to stop)"
echo
# Background jobs (notification delivery) run in a worker beside the site, and
# what cron would run every few minutes runs every minute here.
"$VENV/bin/ckan" -c "$INI" jobs worker >>"$ROOT/.data/demo-worker.log" 2>&1 &
pids+=($!)
while sleep 60; do
    "$VENV/bin/ckan" -c "$INI" governance embargo lift
    "$VENV/bin/ckan" -c "$INI" governance grants expire
    "$VENV/bin/ckan" -c "$INI" governance notify send
done >>"$ROOT/.data/demo-cron.log" 2>&1 &
pids+=($!)
"$VENV/bin/ckan" -c "$INI" run --host "$HOST" --port "$PORT" --disable-reloader
